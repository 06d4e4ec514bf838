using System.Reflection;

namespace Jobs.Hocon;

/// <summary>How configuration text is parsed and resolved.</summary>
public sealed record ConfigParseOptions
{
    /// <summary>The options used when none are given.</summary>
    public static ConfigParseOptions Default { get; } = new();

    /// <summary>Looks up environment variables for unresolved substitutions; null disables the fallback. Default: the process environment.</summary>
    public Func<string, string?>? Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>
    /// Assemblies whose embedded resources serve <c>include classpath("...")</c> and the reference configuration.
    /// Default: Jobs.Hocon (which embeds reference.conf).
    /// </summary>
    public IReadOnlyList<Assembly> ResourceAssemblies { get; init; } = [typeof(ConfigParseOptions).Assembly];

    /// <summary>The directory relative includes in parsed strings resolve against; null means resources only. Default: null.</summary>
    public string? BaseDirectory { get; init; }
}
