using System.Collections.Immutable;
using System.Threading.Channels;
using Akka.Actor;
using Jobs.Actors.Sharding;
using Jobs.Client;

namespace Jobs.Actors.Hosting;

/// <summary>
/// Fans job transitions out to watchers, on this member and on the others: a transition that a watch of another
/// member wants (the members tell each other their watches through the <see cref="ClusterDirectory"/>) is sent to
/// that member, so a watch sees the jobs of the whole cluster whichever member holds their entities. Each watcher
/// has a bounded buffer; one that falls that far behind is ended with "watch-lagged" instead of slowing the job
/// entities down or growing without bound.
/// </summary>
internal sealed class TransitionHub(int bufferPerWatcher, ClusterDirectory directory)
{
    private readonly Lock _gate = new();
    private ImmutableArray<Subscription> _subscriptions = [];

    /// <summary>Whether anyone in the cluster watches (entities skip building transitions when nobody does).</summary>
    public bool HasWatchers => !_subscriptions.IsEmpty || directory.HasRemoteWatchers;

    /// <summary>Watchers on this member now.</summary>
    public int Count => _subscriptions.Length;

    /// <summary>The member's directory actor, told when this member's watches change; null on a node without one.</summary>
    public IActorRef? Announcer { get; set; }

    /// <summary>The distinct watches on this member (what the other members send transitions for).</summary>
    public IReadOnlyList<WatchQuery> Queries => [.. _subscriptions.Select(s => s.Query).Distinct()];

    /// <summary>Hands a transition to the watchers on this member and to the members whose watches want it.</summary>
    public void Publish(JobTransition transition)
    {
        PublishLocal(transition);
        if (directory.HasRemoteWatchers)
        {
            foreach (var peer in directory.Peers.Values)
            {
                if (peer.Offer.Watches.Any(q => q.Matches(transition)))
                {
                    peer.Directory.Tell(new RemoteTransition(transition), ActorRefs.NoSender);
                }
            }
        }
    }

    /// <summary>Hands a transition to the watchers on this member only (one another member sent).</summary>
    public void PublishLocal(JobTransition transition)
    {
        foreach (var subscription in _subscriptions)
        {
            if (subscription.Query.Matches(transition))
            {
                subscription.Offer(transition);
            }
        }
    }

    /// <summary>Starts a watch; its <see cref="Subscription.Armed"/> completes once the other members have it.</summary>
    public Subscription Subscribe(WatchQuery query)
    {
        var subscription = new Subscription(this, query, bufferPerWatcher);
        lock (_gate)
        {
            _subscriptions = _subscriptions.Add(subscription);
        }

        if (Announcer is { } announcer)
        {
            announcer.Tell(new WatchesChanged(subscription.ArmedSource));
        }
        else
        {
            subscription.ArmedSource.TrySetResult();
        }

        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        bool removed;
        lock (_gate)
        {
            var before = _subscriptions.Length;
            _subscriptions = _subscriptions.Remove(subscription);
            removed = _subscriptions.Length != before;
        }

        if (removed)
        {
            Announcer?.Tell(new WatchesChanged(null));
        }
    }

    /// <summary>One watcher's buffer; dispose to stop watching.</summary>
    internal sealed class Subscription(TransitionHub hub, WatchQuery query, int capacity) : IDisposable
    {
        private readonly Channel<JobTransition> _channel = Channel.CreateBounded<JobTransition>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }
        );

        public WatchQuery Query { get; } = query;

        /// <summary>Completes once the other members have this watch (or did not confirm it in time).</summary>
        public Task Armed => ArmedSource.Task;

        internal TaskCompletionSource ArmedSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ChannelReader<JobTransition> Reader => _channel.Reader;

        public void Offer(JobTransition transition)
        {
            if (!_channel.Writer.TryWrite(transition))
            {
                _channel.Writer.TryComplete(
                    new JobsException(
                        "watch-lagged",
                        $"the watcher fell more than {capacity} transitions behind; read the current state and watch again"
                    )
                );
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
