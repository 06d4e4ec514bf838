namespace Jobs.Client;

/// <summary>A request was rejected before anything changed; <see cref="Field"/> names the offending field.</summary>
public sealed class JobValidationException(string field, string message, string errorCode = "invalid-request")
    : JobsException(errorCode, $"{field}: {message}")
{
    /// <summary>The error code for a payload or batch over its size limit (answered 413 over HTTP).</summary>
    public const string TooLarge = "too-large";

    /// <summary>The request field at fault, for example "kind" or "runAt".</summary>
    public string Field { get; } = field;
}
