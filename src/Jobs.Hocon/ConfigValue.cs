using System.Text;
using System.Text.Json;

namespace Jobs.Hocon;

/// <summary>A resolved, immutable configuration value: an object, a list or a scalar.</summary>
public abstract class ConfigValue
{
    private protected ConfigValue(ConfigOrigin origin)
    {
        Origin = origin;
    }

    /// <summary>Where the value was written.</summary>
    public ConfigOrigin Origin { get; }

    /// <summary>The value's type.</summary>
    public abstract ConfigValueType ValueType { get; }

    /// <summary>The value as compact JSON.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteJson(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>True when both values have the same type and content (origins are ignored).</summary>
    public abstract bool ContentEquals(ConfigValue other);

    internal abstract void WriteJson(Utf8JsonWriter writer);
}
