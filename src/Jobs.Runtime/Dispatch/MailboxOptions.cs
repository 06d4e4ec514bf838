namespace Jobs.Runtime.Dispatch;

/// <summary>Which mailbox an actor gets: unbounded (default) or bounded with an overflow policy.</summary>
public sealed record MailboxOptions
{
    private MailboxOptions(int? capacity, OverflowPolicy overflow)
    {
        Capacity = capacity;
        Overflow = overflow;
    }

    /// <summary>An unbounded mailbox: Tell never drops.</summary>
    public static MailboxOptions Unbounded { get; } = new(null, OverflowPolicy.DropIncoming);

    /// <summary>The maximum number of queued messages, or null for unbounded.</summary>
    public int? Capacity { get; }

    /// <summary>What a full bounded mailbox does with a new message. Dropped messages go to dead letters.</summary>
    public OverflowPolicy Overflow { get; }

    /// <summary>A bounded mailbox of <paramref name="capacity"/> messages.</summary>
    public static MailboxOptions Bounded(int capacity, OverflowPolicy overflow = OverflowPolicy.DropIncoming) =>
        capacity > 0 ? new MailboxOptions(capacity, overflow) : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "mailbox capacity must be positive");
}
