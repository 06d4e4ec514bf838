using Jobs.Persistence.Snapshots;

namespace Jobs.Runtime.Persistence;

/// <summary>Delivered to ReceiveRecover after the snapshot and every event have been replayed.</summary>
public sealed class RecoveryCompleted
{
    private RecoveryCompleted()
    {
    }

    /// <summary>The single instance.</summary>
    public static RecoveryCompleted Instance { get; } = new();
}

/// <summary>Delivered to ReceiveRecover first when a snapshot was loaded.</summary>
/// <param name="Metadata">Which snapshot.</param>
/// <param name="Snapshot">The deserialized state.</param>
public sealed record SnapshotOffer(SnapshotMetadata Metadata, object Snapshot);

/// <summary>Sent to the actor when <c>SaveSnapshot</c> succeeded.</summary>
/// <param name="Metadata">The stored snapshot.</param>
public sealed record SaveSnapshotSuccess(SnapshotMetadata Metadata);

/// <summary>Sent to the actor when <c>SaveSnapshot</c> failed (the actor keeps running).</summary>
/// <param name="Metadata">The snapshot that was not stored.</param>
/// <param name="Cause">Why.</param>
public sealed record SaveSnapshotFailure(SnapshotMetadata Metadata, Exception Cause);

/// <summary>Sent to the actor when <c>DeleteMessages</c> succeeded.</summary>
/// <param name="ToSequenceNr">Events up to and including this were deleted.</param>
public sealed record DeleteMessagesSuccess(long ToSequenceNr);

/// <summary>Sent to the actor when <c>DeleteMessages</c> failed.</summary>
/// <param name="ToSequenceNr">The requested bound.</param>
/// <param name="Cause">Why.</param>
public sealed record DeleteMessagesFailure(long ToSequenceNr, Exception Cause);

/// <summary>Sent to the actor when <c>DeleteSnapshots</c> succeeded.</summary>
/// <param name="Criteria">What was deleted.</param>
public sealed record DeleteSnapshotsSuccess(SnapshotSelectionCriteria Criteria);

/// <summary>Sent to the actor when <c>DeleteSnapshots</c> failed.</summary>
/// <param name="Criteria">What was to be deleted.</param>
/// <param name="Cause">Why.</param>
public sealed record DeleteSnapshotsFailure(SnapshotSelectionCriteria Criteria, Exception Cause);
