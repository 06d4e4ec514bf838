using Microsoft.Extensions.Configuration;

namespace Jobs.Hocon;

/// <summary>
/// A HOCON file as a Microsoft.Extensions.Configuration source (so options binding works), with the reference
/// configuration beneath it.
/// </summary>
public sealed class HoconConfigurationSource : IConfigurationSource
{
    /// <summary>The HOCON file; null loads only the reference configuration.</summary>
    public string? Path { get; init; }

    /// <summary>When true a missing file is not an error. Default: false.</summary>
    public bool Optional { get; init; }

    /// <summary>Parse options (environment fallback, resource assemblies). Default: <see cref="ConfigParseOptions.Default"/>.</summary>
    public ConfigParseOptions ParseOptions { get; init; } = ConfigParseOptions.Default;

    /// <inheritdoc />
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new HoconConfigurationProvider(this);
}
