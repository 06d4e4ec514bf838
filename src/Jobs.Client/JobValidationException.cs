namespace Jobs.Client;

/// <summary>A request was rejected before anything changed; <see cref="Field"/> names the offending field.</summary>
public sealed class JobValidationException(string field, string message)
    : JobsException("invalid-request", $"{field}: {message}")
{
    /// <summary>The request field at fault, for example "kind" or "runAt".</summary>
    public string Field { get; } = field;
}
