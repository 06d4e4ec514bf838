namespace Jobs.Hocon;

/// <summary>Where a configuration value was written: file (or other source), line and column, 1-based.</summary>
/// <param name="Description">The file path or source name.</param>
/// <param name="Line">The line, starting at 1 (0 when unknown).</param>
/// <param name="Column">The column, starting at 1 (0 when unknown).</param>
public sealed record ConfigOrigin(string Description, int Line, int Column)
{
    /// <summary>An origin for values built in code.</summary>
    public static ConfigOrigin Code { get; } = new("code", 0, 0);

    /// <inheritdoc />
    public override string ToString() => Line > 0 ? $"{Description}:{Line}:{Column}" : Description;
}
