using Akka.Configuration.Hocon;
using AkkaConfig = Akka.Configuration.Config;

namespace Jobs.Hocon;

/// <summary>Hands a tree read by this reader to Akka.NET, so that one parser reads a node's files.</summary>
public static class AkkaConfigExtensions
{
    /// <summary>
    /// The <c>akka { }</c> tree of <paramref name="config"/> (fully resolved: includes, substitutions, environment
    /// and concatenations already applied) as Akka's own Config, built node by node rather than printed and parsed
    /// again, so that what this reader understood is exactly what Akka gets (Akka's parser would, for one, trim the
    /// spaces of a quoted string). Scalars keep their text ("10s", "64MiB"): Akka reads durations and sizes from it
    /// as from its own files; null values are left out (unset). Akka puts its defaults beneath when the system is
    /// created. Empty when the tree has no <c>akka</c> key.
    /// </summary>
    public static AkkaConfig ToAkkaConfig(this Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!config.Root.TryGetValue("akka", out var akka) || akka is not ConfigObject tree)
        {
            return AkkaConfig.Empty;
        }

        var root = new HoconObject();
        root.GetOrCreateKey("akka").NewValue(ToHocon(tree));
        var value = new HoconValue();
        value.NewValue(root);
        return new AkkaConfig(new HoconRoot(value));
    }

    private static IHoconElement ToHocon(ConfigValue value)
    {
        switch (value)
        {
            case ConfigObject obj:
                var hocon = new HoconObject();
                foreach (var (key, field) in obj)
                {
                    if (field.ValueType != ConfigValueType.Null)
                    {
                        hocon.GetOrCreateKey(key).NewValue(ToHocon(field));
                    }
                }

                return hocon;
            case ConfigList list:
                var array = new HoconArray();
                foreach (var item in list)
                {
                    var element = new HoconValue();
                    element.NewValue(ToHocon(item));
                    array.Add(element);
                }

                return array;
            default:
                return new HoconLiteral { Value = ((ConfigScalar)value).Text };
        }
    }
}
