using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Jobs.Hocon;

/// <summary>Flattens a resolved HOCON configuration into configuration keys: <c>a.b.c</c> becomes <c>a:b:c</c>, list items <c>a:0</c>.</summary>
public sealed class HoconConfigurationProvider(HoconConfigurationSource source) : ConfigurationProvider
{
    /// <summary>The resolved configuration after <see cref="Load"/>.</summary>
    public Config? Config { get; private set; }

    /// <inheritdoc />
    public override void Load()
    {
        string? file = source.Path;
        if (file is not null && !File.Exists(file))
        {
            if (!source.Optional)
            {
                throw new ConfigException($"configuration file '{System.IO.Path.GetFullPath(file)}' does not exist");
            }

            file = null;
        }

        Config = ConfigFactory.Load(file, null, source.ParseOptions);
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Flatten(Config.Root, null, data);
        Data = data;
    }

    private static void Flatten(ConfigValue value, string? prefix, Dictionary<string, string?> data)
    {
        switch (value)
        {
            case ConfigObject obj:
                foreach (var (key, child) in obj)
                {
                    Flatten(child, prefix is null ? key : prefix + ConfigurationPath.KeyDelimiter + key, data);
                }

                break;
            case ConfigList list:
                for (var i = 0; i < list.Count; i++)
                {
                    Flatten(list[i], prefix + ConfigurationPath.KeyDelimiter + i.ToString(CultureInfo.InvariantCulture), data);
                }

                break;
            case ConfigScalar scalar when prefix is not null:
                data[prefix] = scalar.Text;
                break;
        }
    }
}
