using Akka.Actor;
using AkkaSerialization = Akka.Serialization.Serialization;

namespace Jobs.Persistence.Plugin;

/// <summary>
/// Turns payloads into stored bytes with the actor system's serializers, keeping the serializer id and manifest, and
/// back. The serializer is whatever serialization-bindings choose for the payload: the plugin stores any of them.
/// </summary>
internal sealed class PayloadCodec(ExtendedActorSystem system, int legacySerializerId, bool rejectUnbound)
{
    private readonly AkkaSerialization _serialization = system.Serialization;

    public (int SerializerId, string Manifest, byte[] Bytes) Serialize(object payload)
    {
        var serializer = _serialization.FindSerializerFor(payload);
        if (rejectUnbound && serializer is Akka.Serialization.NewtonSoftJsonSerializer)
        {
            // The fallback JSON serializer writes CLR type names into the payload and instantiates them on reading:
            // a renamed class would break recovery, and stored data would name the types to create.
            throw new System.Runtime.Serialization.SerializationException(
                $"no serializer is bound to {payload.GetType().FullName} (akka.actor.serialization-bindings); "
                    + "the fallback JSON serializer, which stores CLR type names, is refused (reject-unbound-payloads)"
            );
        }

        var manifest = AkkaSerialization.ManifestFor(serializer, payload);

        // Within the transport scope, actor references in a payload (sharding's own state) serialize with this
        // system's address, so that they resolve again after a restart.
        var bytes = AkkaSerialization.WithTransport(system, (serializer, payload), static s => s.serializer.ToBinary(s.payload));
        return (serializer.Identifier, manifest, bytes);
    }

    public object Deserialize(int? serializerId, string manifest, byte[] bytes)
    {
        var id = serializerId
            ?? (
                legacySerializerId != 0
                    ? legacySerializerId
                    : throw new InvalidOperationException(
                        "a stored payload has no serializer id (written by the journal's own serializer) and legacy-serializer-id is not set"
                    )
            );
        return _serialization.Deserialize(bytes, id, manifest);
    }
}

/// <summary>What a plugin actor needs: its settings (its HOCON over the plugin's defaults), its codec and the stores.</summary>
internal sealed record PluginContext(PluginSettings Settings, PayloadCodec Codec, SqlPersistence Stores)
{
    /// <summary>Reads the plugin at <paramref name="pluginId"/> from its section <paramref name="config"/>, over the embedded defaults.</summary>
    public static PluginContext Create(Akka.Configuration.Config config, string pluginId, ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(config);
        var settings = PluginSettings.From(config.WithFallback(SqlPersistence.DefaultConfig.GetConfig(pluginId)), pluginId);
        return new(
            settings,
            new PayloadCodec((ExtendedActorSystem)system, settings.LegacySerializerId, settings.RejectUnboundPayloads),
            SqlPersistence.Get(system)
        );
    }
}
