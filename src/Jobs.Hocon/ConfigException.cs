namespace Jobs.Hocon;

/// <summary>A configuration could not be parsed, resolved or read as the requested type; the message names where and what.</summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates the exception; the message is prefixed with the origin and path when known.</summary>
    public ConfigException(string message, ConfigOrigin? origin = null, string? path = null, Exception? innerException = null)
        : base(Format(message, origin, path), innerException)
    {
        Origin = origin;
        Path = path;
    }

    /// <summary>Where the offending text is, if known.</summary>
    public ConfigOrigin? Origin { get; }

    /// <summary>The configuration path involved, if any.</summary>
    public string? Path { get; }

    private static string Format(string message, ConfigOrigin? origin, string? path)
    {
        var where = origin is null ? string.Empty : origin + ": ";
        var what = path is null ? string.Empty : $"'{path}': ";
        return where + what + message;
    }
}
