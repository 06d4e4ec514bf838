namespace Jobs.Runtime.Dispatch;

/// <summary>The user-message queue of one mailbox: many producers, one consumer (the actor's turn).</summary>
internal abstract class MessageQueue
{
    /// <summary>Adds a message; false when a bounded queue dropped it (the drop is already reported).</summary>
    public abstract bool TryEnqueue(in Envelope envelope);

    /// <summary>Takes the oldest message; only the actor's turn calls this.</summary>
    public abstract bool TryDequeue(out Envelope envelope);

    /// <summary>True when a message is queued (or is being linked in by a producer).</summary>
    public abstract bool HasMessages { get; }

    /// <summary>An approximate number of queued messages.</summary>
    public abstract int Count { get; }

    public static MessageQueue Create(MailboxOptions options, Action<Envelope> onDropped) =>
        options.Capacity is { } capacity ? new BoundedMessageQueue(capacity, options.Overflow, onDropped) : new UnboundedMessageQueue();
}
