namespace Jobs.Persistence.Snapshots;

/// <summary>A stored snapshot as loaded.</summary>
/// <param name="Metadata">Which snapshot.</param>
/// <param name="Manifest">The stable type name of the state.</param>
/// <param name="Payload">The serialized state.</param>
/// <param name="SerializerId">The serializer that wrote it, or null for the journal's own serializer.</param>
public sealed record SelectedSnapshot(SnapshotMetadata Metadata, string Manifest, byte[] Payload, int? SerializerId = null);
