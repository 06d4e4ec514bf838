using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace Jobs.Persistence.Tests.Plugin;

/// <summary>An event of the test actors.</summary>
public sealed record Evt(string Text);

/// <summary>A snapshot of the test actors' state.</summary>
public sealed record CounterState(string[] Texts);

/// <summary>
/// The test payloads' serializer, bound by serialization-bindings with a string manifest per type: what an
/// application does for its own messages (and what keeps CLR type names out of storage).
/// </summary>
public sealed class TestPayloadSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => 9101;

    public override string Manifest(object o) =>
        o switch
        {
            Evt => "evt",
            CounterState => "state",
            _ => throw new ArgumentException($"cannot serialize {o.GetType().Name}", nameof(o)),
        };

    public override byte[] ToBinary(object obj) =>
        obj switch
        {
            Evt e => Encoding.UTF8.GetBytes(e.Text),
            CounterState s => Encoding.UTF8.GetBytes(string.Join('\n', s.Texts)),
            _ => throw new ArgumentException($"cannot serialize {obj.GetType().Name}", nameof(obj)),
        };

    public override object FromBinary(byte[] bytes, string manifest) =>
        manifest switch
        {
            "evt" => new Evt(Encoding.UTF8.GetString(bytes)),
            "state" => new CounterState(bytes.Length == 0 ? [] : Encoding.UTF8.GetString(bytes).Split('\n')),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown manifest '{manifest}'"),
        };
}
