using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Jobs.Actors.Handlers;
using Jobs.Actors.Hosting;
using Jobs.Actors.Serialization;
using Jobs.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Sharding;

/// <summary>
/// What every other member of the cluster offers, as this member last heard it: the job kinds it runs (with their
/// defaults), its queues, and the watches its clients hold. Read from any thread (the schedule validator, the
/// scheduler, job entities publishing transitions); written by this member's <see cref="MemberDirectory"/>.
/// </summary>
internal sealed class ClusterDirectory
{
    private ImmutableDictionary<Address, Peer> _peers = ImmutableDictionary<Address, Peer>.Empty;

    /// <summary>The other members heard from, by address.</summary>
    public ImmutableDictionary<Address, Peer> Peers => Volatile.Read(ref _peers);

    /// <summary>Whether some other member holds a watch (entities then build transitions even without local watchers).</summary>
    public bool HasRemoteWatchers { get; private set; }

    /// <summary>The kinds some other member runs, with the defaults it registered them with (the first member's, by address).</summary>
    public bool TryGetKind(string kind, out JobKindOptions options)
    {
        foreach (var peer in Peers.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal))
        {
            foreach (var offered in peer.Value.Offer.Kinds)
            {
                if (offered.Kind == kind)
                {
                    options = offered.Options;
                    return true;
                }
            }
        }

        options = null!;
        return false;
    }

    /// <summary>Every kind the other members run.</summary>
    public IEnumerable<string> RemoteKinds => Peers.Values.SelectMany(p => p.Offer.Kinds.Select(k => k.Kind)).Distinct(StringComparer.Ordinal);

    /// <summary>The concurrency caps the other members registered their kinds with in code.</summary>
    public IEnumerable<(string Kind, int Max)> RemoteCaps =>
        Peers
            .Values.SelectMany(p => p.Offer.Kinds)
            .Where(k => k.Options.MaxConcurrency is not null)
            .Select(k => (k.Kind, k.Options.MaxConcurrency!.Value));

    /// <summary>Every queue the other members run a pool for.</summary>
    public IEnumerable<string> RemoteQueues => Peers.Values.SelectMany(p => p.Offer.Queues).Distinct(StringComparer.Ordinal);

    /// <summary>Records what the member at <paramref name="address"/> offers (its directory actor is <paramref name="directory"/>).</summary>
    public void Set(Address address, IActorRef directory, MemberOffer offer) => Update(p => p.SetItem(address, new Peer(directory, offer)));

    /// <summary>Forgets a member that left.</summary>
    public void Remove(Address address) => Update(p => p.Remove(address));

    private void Update(Func<ImmutableDictionary<Address, Peer>, ImmutableDictionary<Address, Peer>> change)
    {
        lock (this)
        {
            var next = change(_peers);
            Volatile.Write(ref _peers, next);
            HasRemoteWatchers = next.Values.Any(p => p.Offer.Watches.Count > 0);
        }
    }

    /// <summary>One other member: its directory actor and its last offer.</summary>
    internal sealed record Peer(IActorRef Directory, MemberOffer Offer);
}

/// <summary>
/// Keeps <see cref="ClusterDirectory"/> current: tells every other member what this one offers (when it comes up,
/// when its watches change, and every few seconds so that a lost message heals), listens to theirs, forgets members
/// that are removed, and hands the job transitions other members send for this member's watchers to its hub.
/// A member that offers itself to another learns when its offer arrived (<see cref="OfferReceived"/>): a new watch
/// starts once every member has it, so a transition on another member right after it is not missed.
/// </summary>
internal sealed class MemberDirectory : ReceiveActor, IWithTimers
{
    /// <summary>The actor's name under /user on every member.</summary>
    public const string Name = "jobs-members";

    private static readonly TimeSpan AnnounceEvery = TimeSpan.FromSeconds(5);

    /// <summary>How long a new watch waits for the other members to have it before it starts anyway.</summary>
    private static readonly TimeSpan ArmTimeout = TimeSpan.FromSeconds(3);

    private readonly JobsRuntime _runtime;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILogger _log;
    private readonly List<Arming> _arming = [];
    private long _version;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Keeps <paramref name="runtime"/>'s directory.</summary>
    public MemberDirectory(JobsRuntime runtime)
    {
        _runtime = runtime;
        _log = runtime.Loggers.CreateLogger<MemberDirectory>();
        Receive<ClusterEvent.MemberUp>(up => Announce(up.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(removed => Forget(removed.Member.Address));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            foreach (var member in state.Members.Where(m => m.Status == MemberStatus.Up))
            {
                Announce(member.Address);
            }
        });
        Receive<AnnounceTick>(_ => AnnounceToAll());
        Receive<WatchesChanged>(changed => OnWatchesChanged(changed.Armed));
        Receive<MemberOffer>(OnOffer);
        Receive<OfferReceived>(OnOfferReceived);
        Receive<RemoteTransition>(remote => _runtime.Transitions.PublishLocal(remote.Transition));
        Receive<ArmTimedOut>(timedOut => Settle(a => a.Version <= timedOut.Version, timedOut: true));
        Receive<StandingQuery>(query =>
            Sender.Tell(
                new StandingReply(
                    _cluster.State.Members.Any(m =>
                        m.Status == MemberStatus.Up && m.UniqueAddress.Uid == query.Uid && m.Address.Equals(Sender.Path.Address)
                    )
                )
            )
        );
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
        Timers.StartPeriodicTimer(AnnounceTick.Instance, AnnounceTick.Instance, AnnounceEvery);
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        Settle(_ => true, timedOut: true);
    }

    /// <summary>The directory actor of the member at <paramref name="address"/>.</summary>
    private ActorSelection DirectoryOf(Address address) => Context.ActorSelection(new RootActorPath(address) / "user" / Name);

    private MemberOffer OwnOffer() =>
        new(
            _runtime.Incarnation,
            [
                .. _runtime
                    .Handlers.Kinds.Order(StringComparer.Ordinal)
                    .Select(k => new KindOffer(k, _runtime.Handlers.TryGet(k, out var r) ? r.Options : new JobKindOptions())),
            ],
            [.. _runtime.Pools.Keys.Order(StringComparer.Ordinal)],
            _runtime.Transitions.Queries,
            _version
        );

    private void Announce(Address address)
    {
        if (!address.Equals(_cluster.SelfAddress))
        {
            DirectoryOf(address).Tell(OwnOffer(), Self);
        }
    }

    private IEnumerable<Address> OthersUp() =>
        _cluster.State.Members.Where(m => m.Status == MemberStatus.Up && !m.Address.Equals(_cluster.SelfAddress)).Select(m => m.Address);

    private void AnnounceToAll()
    {
        var offer = OwnOffer();
        foreach (var address in OthersUp())
        {
            DirectoryOf(address).Tell(offer, Self);
        }
    }

    private void OnWatchesChanged(TaskCompletionSource? armed)
    {
        _version++;
        if (armed is not null)
        {
            var waiting = OthersUp().ToHashSet();
            if (waiting.Count == 0)
            {
                armed.TrySetResult();
            }
            else
            {
                _arming.Add(new Arming(_version, waiting, armed));
                Timers.StartSingleTimer(new ArmTimedOut(_version), new ArmTimedOut(_version), ArmTimeout);
            }
        }

        AnnounceToAll();
    }

    private void OnOffer(MemberOffer offer)
    {
        var address = Sender.Path.Address;
        var known = _runtime.Directory.Peers.TryGetValue(address, out var peer) ? peer.Offer : null;
        _runtime.Directory.Set(address, Sender, offer);
        Sender.Tell(new OfferReceived(offer.Version), Self);
        if (known is null || known.Incarnation != offer.Incarnation)
        {
            Sender.Tell(OwnOffer(), Self); // a member new to this one learns about it at once, not at the next tick
        }
    }

    private void OnOfferReceived(OfferReceived received)
    {
        var from = Sender.Path.Address;
        foreach (var arming in _arming.Where(a => a.Version <= received.Version))
        {
            arming.Waiting.Remove(from);
        }

        Settle(a => a.Waiting.Count == 0, timedOut: false);
    }

    private void Forget(Address address)
    {
        _runtime.Directory.Remove(address);
        foreach (var arming in _arming)
        {
            arming.Waiting.Remove(address);
        }

        Settle(a => a.Waiting.Count == 0, timedOut: false);
    }

    private void Settle(Func<Arming, bool> which, bool timedOut)
    {
        foreach (var arming in _arming.Where(which).ToList())
        {
            if (timedOut && arming.Waiting.Count > 0)
            {
                _log.LogWarning(
                    "A new watch starts before {Members} confirmed it; their transitions of the next moments may be missed",
                    string.Join(", ", arming.Waiting)
                );
            }

            arming.Armed.TrySetResult();
            _arming.Remove(arming);
        }
    }

    /// <summary>A watch change whose start waits until the members in <see cref="Waiting"/> have the offer of <see cref="Version"/>.</summary>
    private sealed record Arming(long Version, HashSet<Address> Waiting, TaskCompletionSource Armed);

    private sealed class AnnounceTick : INoSerializationVerificationNeeded
    {
        public static readonly AnnounceTick Instance = new();
    }

    private sealed record ArmTimedOut(long Version) : INoSerializationVerificationNeeded;
}

/// <summary>From the transition hub: this member's watches changed; <see cref="Armed"/> completes once the others have them.</summary>
internal sealed record WatchesChanged(TaskCompletionSource? Armed) : INoSerializationVerificationNeeded;

/// <summary>A job kind a member runs, with the defaults it registered it with.</summary>
internal sealed record KindOffer(string Kind, JobKindOptions Options);

/// <summary>
/// What a member offers the cluster: the kinds it runs, its queues, and its clients' watches (so that other members
/// send it the transitions those watches want); <see cref="Version"/> grows with every change of its watches.
/// </summary>
internal sealed record MemberOffer(
    string Incarnation,
    IReadOnlyList<KindOffer> Kinds,
    IReadOnlyList<string> Queues,
    IReadOnlyList<WatchQuery> Watches,
    long Version
) : IWireMessage;

/// <summary>The answer to a <see cref="MemberOffer"/>: the receiver has the offer of <see cref="Version"/> (or a later one).</summary>
internal sealed record OfferReceived(long Version) : IWireMessage;

/// <summary>A job transition on another member that a watch of this member wants.</summary>
internal sealed record RemoteTransition(JobTransition Transition) : IWireMessage;
