using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Jobs.Persistence.Serialization;

/// <summary>
/// Maps stable manifests (for example "job-scheduled.v1") to event types with source-generated JSON metadata.
/// Only registered types are ever created; an upcaster turns an old manifest's JSON into a newer one.
/// Register everything at start-up, then share the instance (reads are lock-free afterwards).
/// </summary>
public sealed class EventSerializer
{
    private readonly Dictionary<string, Registration> _byManifest = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, Registration> _byType = [];
    private readonly Dictionary<string, Func<JsonNode, (string Manifest, JsonNode Json)>> _upcasters = new(StringComparer.Ordinal);

    /// <summary>Registers <typeparamref name="T"/> under <paramref name="manifest"/>.</summary>
    /// <exception cref="ArgumentException">The manifest or the type is already registered.</exception>
    public EventSerializer Register<T>(string manifest, JsonTypeInfo<T> typeInfo)
        where T : notnull
    {
        ArgumentException.ThrowIfNullOrEmpty(manifest);
        ArgumentNullException.ThrowIfNull(typeInfo);
        var registration = new Registration(
            manifest,
            typeof(T),
            value => JsonSerializer.SerializeToUtf8Bytes((T)value, typeInfo),
            bytes => JsonSerializer.Deserialize(bytes, typeInfo)!
        );
        if (!_byManifest.TryAdd(manifest, registration))
        {
            throw new ArgumentException($"the manifest '{manifest}' is already registered (for {_byManifest[manifest].Type.Name})", nameof(manifest));
        }

        if (!_byType.TryAdd(typeof(T), registration))
        {
            _byManifest.Remove(manifest);
            throw new ArgumentException($"{typeof(T).Name} is already registered (as '{_byType[typeof(T)].Manifest}')", nameof(manifest));
        }

        return this;
    }

    /// <summary>
    /// Registers a conversion from an old manifest's JSON to a newer manifest and JSON (applied repeatedly until a
    /// registered manifest results).
    /// </summary>
    public EventSerializer RegisterUpcaster(string oldManifest, Func<JsonNode, (string Manifest, JsonNode Json)> upcast)
    {
        ArgumentException.ThrowIfNullOrEmpty(oldManifest);
        ArgumentNullException.ThrowIfNull(upcast);
        if (!_upcasters.TryAdd(oldManifest, upcast))
        {
            throw new ArgumentException($"an upcaster from '{oldManifest}' is already registered", nameof(oldManifest));
        }

        return this;
    }

    /// <summary>True when a value of this type can be serialized.</summary>
    public bool IsRegistered(Type type) => _byType.ContainsKey(type);

    /// <summary>Serializes a registered value.</summary>
    /// <exception cref="InvalidOperationException">The value's type is not registered (a rejection, not a storage failure).</exception>
    public (string Manifest, byte[] Payload) Serialize(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!_byType.TryGetValue(value.GetType(), out var registration))
        {
            throw new InvalidOperationException(
                $"{value.GetType().Name} is not registered with the event serializer; register it with a stable manifest"
            );
        }

        return (registration.Manifest, registration.Serialize(value));
    }

    /// <summary>Deserializes stored data, upcasting old manifests first.</summary>
    /// <exception cref="UnknownManifestException">Neither the manifest nor an upcaster from it is registered.</exception>
    public object Deserialize(string manifest, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (_byManifest.TryGetValue(manifest, out var registration))
        {
            return registration.Deserialize(payload);
        }

        if (!_upcasters.ContainsKey(manifest))
        {
            throw new UnknownManifestException(manifest);
        }

        var json = JsonNode.Parse(payload) ?? throw new JsonException($"stored payload for '{manifest}' is JSON null");
        var hops = 0;
        while (!_byManifest.ContainsKey(manifest))
        {
            if (!_upcasters.TryGetValue(manifest, out var upcast) || ++hops > 32)
            {
                throw new UnknownManifestException(manifest);
            }

            (manifest, json) = upcast(json);
        }

        return _byManifest[manifest].Deserialize(Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    private sealed record Registration(string Manifest, Type Type, Func<object, byte[]> Serialize, Func<byte[], object> Deserialize);
}
