using System.Collections.Immutable;
using System.Threading.Channels;
using Jobs.Client;

namespace Jobs.Actors.Hosting;

/// <summary>
/// Fans job transitions out to watchers. Each watcher has a bounded buffer; one that falls that far behind is
/// ended with "watch-lagged" instead of slowing the job entities down or growing without bound.
/// </summary>
internal sealed class TransitionHub(int bufferPerWatcher)
{
    private readonly Lock _gate = new();
    private ImmutableArray<Subscription> _subscriptions = [];

    /// <summary>Whether anyone watches (entities skip building transitions when nobody does).</summary>
    public bool HasWatchers => !_subscriptions.IsEmpty;

    /// <summary>Watchers now.</summary>
    public int Count => _subscriptions.Length;

    public void Publish(JobTransition transition)
    {
        foreach (var subscription in _subscriptions)
        {
            if (subscription.Query.Matches(transition))
            {
                subscription.Offer(transition);
            }
        }
    }

    public Subscription Subscribe(WatchQuery query)
    {
        var subscription = new Subscription(this, query, bufferPerWatcher);
        lock (_gate)
        {
            _subscriptions = _subscriptions.Add(subscription);
        }

        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = _subscriptions.Remove(subscription);
        }
    }

    /// <summary>One watcher's buffer; dispose to stop watching.</summary>
    internal sealed class Subscription(TransitionHub hub, WatchQuery query, int capacity) : IDisposable
    {
        private readonly Channel<JobTransition> _channel = Channel.CreateBounded<JobTransition>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        public WatchQuery Query { get; } = query;

        public ChannelReader<JobTransition> Reader => _channel.Reader;

        public void Offer(JobTransition transition)
        {
            if (!_channel.Writer.TryWrite(transition))
            {
                _channel.Writer.TryComplete(new JobsException("watch-lagged", $"the watcher fell more than {capacity} transitions behind; read the current state and watch again"));
                hub.Remove(this);
            }
        }

        public void Dispose()
        {
            hub.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}
