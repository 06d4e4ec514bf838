using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Jobs.Hocon;

/// <summary>A resolved object; fields keep the order in which they were first defined.</summary>
public sealed class ConfigObject : ConfigValue, IReadOnlyDictionary<string, ConfigValue>
{
    private readonly Dictionary<string, ConfigValue> _fields;
    private readonly string[] _order;

    internal ConfigObject(IEnumerable<KeyValuePair<string, ConfigValue>> fields, ConfigOrigin origin)
        : base(origin)
    {
        _fields = [];
        var order = new List<string>();
        foreach (var (key, value) in fields)
        {
            if (_fields.TryAdd(key, value))
            {
                order.Add(key);
            }
            else
            {
                _fields[key] = value;
            }
        }

        _order = [.. order];
    }

    /// <summary>An empty object.</summary>
    public static ConfigObject Empty { get; } = new([], ConfigOrigin.Code);

    /// <inheritdoc />
    public override ConfigValueType ValueType => ConfigValueType.Object;

    /// <inheritdoc />
    public int Count => _order.Length;

    /// <inheritdoc />
    public IEnumerable<string> Keys => _order;

    /// <inheritdoc />
    public IEnumerable<ConfigValue> Values => _order.Select(k => _fields[k]);

    /// <inheritdoc />
    public ConfigValue this[string key] => _fields[key];

    /// <inheritdoc />
    public bool ContainsKey(string key) => _fields.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out ConfigValue value) => _fields.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, ConfigValue>> GetEnumerator() =>
        _order.Select(k => new KeyValuePair<string, ConfigValue>(k, _fields[k])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>This object with <paramref name="fallback"/> underneath: fields missing here come from it; objects present in both merge.</summary>
    public ConfigObject WithFallback(ConfigObject fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        var merged = new List<KeyValuePair<string, ConfigValue>>();
        foreach (var (key, value) in fallback)
        {
            merged.Add(new(key, _fields.TryGetValue(key, out var mine) ? MergeValue(mine, value) : value));
        }

        foreach (var key in _order)
        {
            if (!fallback.ContainsKey(key))
            {
                merged.Add(new(key, _fields[key]));
            }
        }

        return new ConfigObject(merged, Origin);
    }

    /// <inheritdoc />
    public override bool ContentEquals(ConfigValue other) =>
        other is ConfigObject obj && obj.Count == Count && _order.All(k => obj.TryGetValue(k, out var v) && _fields[k].ContentEquals(v));

    /// <inheritdoc />
    public override string ToString() => ToJson();

    internal static ConfigValue MergeValue(ConfigValue preferred, ConfigValue fallback) =>
        preferred is ConfigObject a && fallback is ConfigObject b ? a.WithFallback(b) : preferred;

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var key in _order)
        {
            writer.WritePropertyName(key);
            _fields[key].WriteJson(writer);
        }

        writer.WriteEndObject();
    }
}
