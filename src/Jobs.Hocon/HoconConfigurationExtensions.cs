using Microsoft.Extensions.Configuration;

namespace Jobs.Hocon;

/// <summary>Adds HOCON files to an <see cref="IConfigurationBuilder"/>.</summary>
public static class HoconConfigurationExtensions
{
    /// <summary>Adds a HOCON file (merged over the embedded reference.conf and resolved) as a configuration source.</summary>
    /// <param name="builder">The configuration builder.</param>
    /// <param name="path">The file; relative paths are relative to the current directory.</param>
    /// <param name="optional">When true a missing file only contributes the reference configuration.</param>
    public static IConfigurationBuilder AddHoconFile(this IConfigurationBuilder builder, string path, bool optional = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return builder.Add(new HoconConfigurationSource { Path = path, Optional = optional });
    }
}
