namespace Jobs.Persistence.Plugin;

/// <summary>
/// An event persisted together with an attachment for the journal's write participants (a query-index row, say):
/// the plugin stores <see cref="Event"/> alone and hands <see cref="Attachment"/> to the participants in the same
/// transaction. Recovery replays the event, never the envelope. When one atomic write holds several attached
/// events, the last attachment stands for the write (each describes the state after its event).
/// </summary>
/// <param name="Event">The event to store.</param>
/// <param name="Attachment">The participants' data; it is not stored by the journal itself (null: none).</param>
/// <param name="Group">
/// The write group this write commits with (one transaction for writes of many actors, e.g. a batch of new jobs);
/// null: the write commits on its own. A group lives in this process only: the envelope is never serialized.
/// </param>
/// <param name="Fence">
/// A lease the write is made under (see <see cref="Leases.DatabaseLease.Fence"/>): the write is stored only while
/// that holding is current, and refused (OnPersistRejected) otherwise. Null: not fenced.
/// </param>
public sealed record Attached(object Event, object? Attachment, Journal.JournalWriteGroup? Group = null, Journal.WriteFence? Fence = null);
