using Akka.Actor;
using Jobs.Actors.Hosting;
using Jobs.Actors.Serialization;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Sharding;

/// <summary>
/// Whether this member reaches the cluster's database, and what it does when it does not while the others do.
/// A member cut off from the database loses its shards' leases: its shards stop, but they stay allocated to it
/// (Akka's coordinator does not move shards off a member that is up), so their jobs would wait until it reaches the
/// database again. Once it has not reached the database for <c>jobs.sharding.database-cut-off-after</c>, it asks the
/// other members whether they do; if one does, the fault is this member's, and it downs itself: the others take
/// its shards and the scheduler. If none does (the database is down for all), it stays: leaving would not help.
/// From its first failed probe until one succeeds, this member's pools start no work (<see cref="DatabaseReachable"/>):
/// an attempt that runs here while this member may be about to leave would only be lost with it, so the scheduler
/// sends due jobs to members that reach the database.
/// </summary>
internal sealed class DatabaseContact : ReceiveActor
{
    /// <summary>The actor's name under /user on every member.</summary>
    public const string Name = "database-contact";

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly JobsRuntime _runtime;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _cutOffAfter;
    private readonly ILogger _log;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private long _lastReached = Environment.TickCount64;
    private bool _probing;
    private bool _downed;
    private bool _unreachable;
    private ICancelable? _ticks;

    /// <summary>Probes the database every <paramref name="interval"/>.</summary>
    public DatabaseContact(JobsRuntime runtime, TimeSpan interval, TimeSpan cutOffAfter)
    {
        _runtime = runtime;
        _interval = interval;
        _cutOffAfter = cutOffAfter;
        _log = runtime.Loggers.CreateLogger<DatabaseContact>();
        Receive<Probe>(_ => StartProbe());
        Receive<Probed>(OnProbed);
        Receive<DatabaseContactQuery>(_ => Sender.Tell(new DatabaseContactReply(SinceReached < _interval + _interval + ProbeTimeout)));
        Receive<DatabaseContactReply>(OnReply);
    }

    private TimeSpan SinceReached => TimeSpan.FromMilliseconds(Environment.TickCount64 - _lastReached);

    /// <inheritdoc />
    protected override void PreStart() =>
        _ticks = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(_interval, _interval, Self, Probe.Instance, Self);

    /// <inheritdoc />
    protected override void PostStop() => _ticks?.Cancel();

    private void StartProbe()
    {
        if (_probing)
        {
            return;
        }

        _probing = true;
        ProbeAsync().PipeTo(Self);
    }

    private async Task<Probed> ProbeAsync()
    {
        using var bounded = new CancellationTokenSource(ProbeTimeout);
        try
        {
            await _runtime.ProbeJournalAsync(bounded.Token).ConfigureAwait(false);
            return new Probed(null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new Probed(ex.Message);
        }
    }

    private void OnProbed(Probed probed)
    {
        _probing = false;
        if (probed.Failure is null)
        {
            _lastReached = Environment.TickCount64;
            if (_unreachable)
            {
                _unreachable = false;
                _log.LogInformation("This member reaches the database again: its pools take work again");
                TellPools(new DatabaseReachable(true));
            }

            return;
        }

        if (!_unreachable)
        {
            _log.LogWarning("This member does not reach the database ({Failure}): its pools start no work until it does", probed.Failure);
        }

        _unreachable = true;
        TellPools(new DatabaseReachable(false)); // (on every failed probe: a pool that restarted meanwhile learns it too)

        if (SinceReached >= _cutOffAfter && !_downed)
        {
            // Does anyone else reach it? Each answers whether its own last probes did.
            _log.LogWarning(
                "This member has not reached the database for {Since} ({Failure}); asking the other members whether they do",
                SinceReached,
                probed.Failure
            );
            foreach (
                var member in _cluster.State.Members.Where(m => m.Status == Akka.Cluster.MemberStatus.Up && !m.Address.Equals(_cluster.SelfAddress))
            )
            {
                Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(DatabaseContactQuery.Instance, Self);
            }
        }
    }

    private void TellPools(DatabaseReachable message)
    {
        foreach (var pool in _runtime.Pools.Values)
        {
            pool.Tell(message, Self);
        }
    }

    private void OnReply(DatabaseContactReply reply)
    {
        if (!reply.Reached || _downed || SinceReached < _cutOffAfter)
        {
            return;
        }

        _downed = true;
        _log.LogError(
            "This member has not reached the database for {Since} while {Member} does: "
                + "downing itself, so that the others take over its shards and the scheduler",
            SinceReached,
            Sender.Path.Address
        );
        _cluster.Down(_cluster.SelfAddress);
    }

    private sealed class Probe : INoSerializationVerificationNeeded
    {
        public static readonly Probe Instance = new();
    }

    private sealed record Probed(string? Failure) : INoSerializationVerificationNeeded;
}

/// <summary>From a member cut off from the database to the others' <see cref="DatabaseContact"/>: do you reach it?</summary>
internal sealed class DatabaseContactQuery : IWireMessage
{
    /// <summary>The one instance.</summary>
    public static readonly DatabaseContactQuery Instance = new();
}

/// <summary>The answer: whether the answering member's recent probes reached the database.</summary>
internal sealed record DatabaseContactReply(bool Reached) : IWireMessage;

/// <summary>To this member's pools: whether the member reaches the database (while it does not, they start no work).</summary>
internal sealed record DatabaseReachable(bool Reachable) : INoSerializationVerificationNeeded;
