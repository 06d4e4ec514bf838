using System.Threading.Channels;

namespace Jobs.Runtime.Dispatch;

/// <summary>A bounded mailbox queue on System.Threading.Channels; the channel's full mode implements the overflow policy.</summary>
internal sealed class BoundedMessageQueue : MessageQueue
{
    private readonly Channel<Envelope> _channel;
    private readonly Action<Envelope> _onDropped;

    public BoundedMessageQueue(int capacity, OverflowPolicy overflow, Action<Envelope> onDropped)
    {
        _onDropped = onDropped;
        var options = new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
            FullMode = overflow switch
            {
                OverflowPolicy.DropOldest => BoundedChannelFullMode.DropOldest,
                OverflowPolicy.DropNewest => BoundedChannelFullMode.DropNewest,
                _ => BoundedChannelFullMode.Wait, // Wait + TryWrite = reject the incoming message without blocking
            },
        };
        _channel = Channel.CreateBounded(options, onDropped);
    }

    public override bool HasMessages => _channel.Reader.Count > 0;

    public override int Count => _channel.Reader.Count;

    public override bool TryEnqueue(in Envelope envelope)
    {
        if (_channel.Writer.TryWrite(envelope))
        {
            return true;
        }

        _onDropped(envelope);
        return false;
    }

    public override bool TryDequeue(out Envelope envelope) => _channel.Reader.TryRead(out envelope);
}
