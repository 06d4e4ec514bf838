namespace Jobs.Runtime.Dispatch;

/// <summary>
/// A lock-free multi-producer single-consumer linked queue (Vyukov's design). An idle queue costs one
/// stub node, which is why the default mailbox is this and not an unbounded Channel: the Channel's
/// ConcurrentQueue starts with a 32-slot segment, several hundred bytes per idle actor (see docs/architecture.md).
/// </summary>
internal sealed class UnboundedMessageQueue : MessageQueue
{
    private Node _head; // producers swap in here
    private Node _tail; // the consumer reads from here; _tail is always a consumed (stub) node
    private int _count;

    public UnboundedMessageQueue()
    {
        _head = _tail = new Node(default);
    }

    public override bool HasMessages => !ReferenceEquals(Volatile.Read(ref _head), _tail);

    public override int Count => Volatile.Read(ref _count);

    public override bool TryEnqueue(in Envelope envelope)
    {
        var node = new Node(envelope);
        Interlocked.Increment(ref _count);
        var previous = Interlocked.Exchange(ref _head, node);
        Volatile.Write(ref previous.Next, node);
        return true;
    }

    public override bool TryDequeue(out Envelope envelope)
    {
        var tail = _tail;
        var next = Volatile.Read(ref tail.Next);
        if (next is null)
        {
            if (ReferenceEquals(Volatile.Read(ref _head), tail))
            {
                envelope = default;
                return false;
            }

            // A producer has swapped the head but not yet linked its node: it is a few instructions away.
            var spin = new SpinWait();
            while ((next = Volatile.Read(ref tail.Next)) is null)
            {
                spin.SpinOnce();
            }
        }

        _tail = next;
        envelope = next.Value;
        next.Value = default; // the node is now the stub; do not keep the message alive
        Interlocked.Decrement(ref _count);
        return true;
    }

    private sealed class Node(Envelope value)
    {
        public Envelope Value = value;
        public Node? Next;
    }
}
