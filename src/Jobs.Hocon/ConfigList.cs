using System.Collections;
using System.Text.Json;

namespace Jobs.Hocon;

/// <summary>A resolved list.</summary>
public sealed class ConfigList : ConfigValue, IReadOnlyList<ConfigValue>
{
    private readonly ConfigValue[] _items;

    internal ConfigList(IEnumerable<ConfigValue> items, ConfigOrigin origin)
        : base(origin)
    {
        _items = [.. items];
    }

    /// <inheritdoc />
    public override ConfigValueType ValueType => ConfigValueType.List;

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <inheritdoc />
    public ConfigValue this[int index] => _items[index];

    /// <inheritdoc />
    public IEnumerator<ConfigValue> GetEnumerator() => ((IEnumerable<ConfigValue>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override bool ContentEquals(ConfigValue other) =>
        other is ConfigList list && list.Count == Count && _items.Zip(list._items).All(p => p.First.ContentEquals(p.Second));

    /// <inheritdoc />
    public override string ToString() => ToJson();

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartArray();
        foreach (var item in _items)
        {
            item.WriteJson(writer);
        }

        writer.WriteEndArray();
    }
}
