namespace Jobs.Persistence.Journal;

/// <summary>One stored event: who wrote it, its position in the actor's stream, and its serialized form.</summary>
/// <param name="PersistenceId">The stream (one persistent actor).</param>
/// <param name="SequenceNr">Position in the stream, from 1, without gaps.</param>
/// <param name="Manifest">The stable event-type name the payload was serialized under.</param>
/// <param name="Payload">The serialized event (UTF-8 JSON).</param>
/// <param name="Timestamp">When it was written (the writer's clock).</param>
/// <param name="WriterId">Which node or process wrote it.</param>
/// <param name="SerializerId">
/// The id of the serializer that wrote <paramref name="Payload"/> under <paramref name="Manifest"/>, or null for the
/// journal's own event serializer (every row written before serializer ids were stored).
/// </param>
public sealed record PersistentRepr(
    string PersistenceId,
    long SequenceNr,
    string Manifest,
    byte[] Payload,
    DateTimeOffset Timestamp,
    string WriterId,
    int? SerializerId = null
);
