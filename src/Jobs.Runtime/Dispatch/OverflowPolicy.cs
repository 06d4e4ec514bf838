namespace Jobs.Runtime.Dispatch;

/// <summary>What a full bounded mailbox does when another message arrives. Tell never blocks, so there is no "wait".</summary>
public enum OverflowPolicy
{
    /// <summary>The arriving message is dropped (to dead letters).</summary>
    DropIncoming,

    /// <summary>The oldest queued message is dropped to make room.</summary>
    DropOldest,

    /// <summary>The newest queued message is dropped to make room.</summary>
    DropNewest,
}
