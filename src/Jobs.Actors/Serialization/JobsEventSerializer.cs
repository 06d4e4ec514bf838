using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Jobs.Persistence.Serialization;

namespace Jobs.Actors.Serialization;

/// <summary>
/// The job system's events for Akka.NET's serialization (and so for any journal plugin): System.Text.Json with
/// source-generated metadata, under stable string manifests ("job-scheduled.v1"), never CLR type names; unknown
/// manifests fail, old ones are upcast. <see cref="Hocon"/> binds every event type to it.
/// </summary>
internal sealed class JobsEventSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The serializer's id, stored with every event it wrote: it never changes.</summary>
    public const int Id = 7401;

    private static readonly EventSerializer Events = Entities.JobsJsonContext.RegisterEvents(new EventSerializer());

    /// <inheritdoc />
    public override int Identifier => Id;

    /// <summary>Every event type the job system persists (declared before <see cref="Hocon"/>, which is built from it).</summary>
    public static IReadOnlyList<Type> EventTypes { get; } =
    [
        .. typeof(JobsEventSerializer)
            .Assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && typeof(IPersistedEvent).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal),
    ];

    /// <summary>
    /// The Akka configuration that registers this serializer and binds every persisted event type to it (the same
    /// types the JSON context knows, found by their marker interface).
    /// </summary>
    public static string Hocon { get; } = BuildHocon();

    /// <inheritdoc />
    public override string Manifest(object o) => Events.Serialize(o).Manifest;

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) => Events.Serialize(obj).Payload;

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest) => Events.Deserialize(manifest, bytes);

    private static string BuildHocon()
    {
        var type = typeof(JobsEventSerializer);
        var b = new StringBuilder();
        b.Append("akka.actor.serializers.jobs-events = \"").Append(type.FullName).Append(", ").Append(type.Assembly.GetName().Name).Append("\"\n");
        b.Append("akka.actor.serialization-identifiers { \"")
            .Append(type.FullName)
            .Append(", ")
            .Append(type.Assembly.GetName().Name)
            .Append("\" = ")
            .Append(Id)
            .Append(" }\n");
        b.Append("akka.actor.serialization-bindings {\n");
        foreach (var eventType in EventTypes)
        {
            b.Append("  \"").Append(eventType.FullName).Append(", ").Append(eventType.Assembly.GetName().Name).Append("\" = jobs-events\n");
        }

        return b.Append("}\n").ToString();
    }
}
