using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Jobs.Runtime.Actors;
using Jobs.Runtime.Persistence;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Memory;
using Jobs.Persistence.Serialization;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Persistence;

public sealed record Added(int Amount);

public sealed record CounterState(int Total, int Events);

public sealed record Unregistered(string Text);

[JsonSerializable(typeof(Added))]
[JsonSerializable(typeof(CounterState))]
public sealed partial class TestEventsJsonContext : JsonSerializerContext;

/// <summary>An in-memory journal whose writes can be held, failed, and whose replays are counted.</summary>
public sealed class ControlledJournal : IJournal
{
    private readonly InMemoryJournal _inner = new();
    private int _replaying;

    public TaskCompletionSource? WriteGate { get; set; }

    public Exception? FailWrites { get; set; }

    public TaskCompletionSource? ReplayGate { get; set; }

    public int MaxConcurrentReplays { get; private set; }

    public InMemoryJournal Inner => _inner;

    public string Backend => "controlled";

    public Task StartAsync(CancellationToken cancellationToken) => _inner.StartAsync(cancellationToken);

    public async Task WriteAsync(AtomicWrite write, CancellationToken cancellationToken)
    {
        if (WriteGate is { } gate)
        {
            await gate.Task;
        }

        if (FailWrites is { } error)
        {
            throw error;
        }

        await _inner.WriteAsync(write, cancellationToken);
    }

    public Task WriteGroupAsync(IReadOnlyList<AtomicWrite> writes, CancellationToken cancellationToken) => _inner.WriteGroupAsync(writes, cancellationToken);

    public async IAsyncEnumerable<PersistentRepr> ReplayAsync(string persistenceId, long fromSequenceNr, long toSequenceNr, long max, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _replaying);
        lock (_inner)
        {
            MaxConcurrentReplays = Math.Max(MaxConcurrentReplays, now);
        }

        try
        {
            if (ReplayGate is { } gate)
            {
                await gate.Task;
            }

            await foreach (var e in _inner.ReplayAsync(persistenceId, fromSequenceNr, toSequenceNr, max, cancellationToken))
            {
                yield return e;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _replaying);
        }
    }

    /// <summary>Recovery reads (each of one or more streams) so far.</summary>
    public int RecoveryReads => _recoveryReads;

    /// <summary>Streams read by recovery reads so far.</summary>
    public int RecoveredStreams => _recoveredStreams;

    private int _recoveryReads;
    private int _recoveredStreams;

    public async Task<IReadOnlyDictionary<string, RecoveredEvents>> ReplayManyAsync(IReadOnlyList<(string PersistenceId, long FromSequenceNr)> streams, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _recoveryReads);
        Interlocked.Add(ref _recoveredStreams, streams.Count);
        var now = Interlocked.Increment(ref _replaying);
        lock (_inner)
        {
            MaxConcurrentReplays = Math.Max(MaxConcurrentReplays, now);
        }

        try
        {
            if (ReplayGate is { } gate)
            {
                await gate.Task;
            }

            return await ((IJournal)_inner).ReplayManyAsync(streams, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _replaying);
        }
    }

    public Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken) => _inner.ReadHighestSequenceNrAsync(persistenceId, cancellationToken);

    public Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken) => _inner.DeleteMessagesToAsync(persistenceId, toSequenceNr, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public sealed class PersistentActorTests : ActorTestKit
{
    private readonly ControlledJournal _journal = new();
    private readonly InMemorySnapshotStore _snapshots = new();

    public PersistentActorTests()
    {
        var serializer = new EventSerializer()
            .Register("added.v1", TestEventsJsonContext.Default.Added)
            .Register("counter-state.v1", TestEventsJsonContext.Default.CounterState);
        PersistenceExtension.Register(Sys, new PersistenceExtension(_journal, _snapshots, serializer, new PersistenceOptions { MaxConcurrentRecoveries = 2 }));
    }

    private IActorRef Counter(string id, WriteFence? fence = null)
    {
        var probe = TestActor.Ref;
        return Sys.ActorOf(Props.Create(() => new CounterActor(id, probe, fence)));
    }

    private async Task<IActorRef> Restarted(IActorRef actor, string id)
    {
        await TestActor.WatchAsync(actor);
        Sys.Stop(actor);
        await TestActor.FishForMessageAsync<Terminated>(t => t.Actor.Equals(actor));
        return Counter(id);
    }

    [Fact]
    public async Task Persist_HandlerAfterCommit_StateSurvivesRestart()
    {
        var counter = Counter("c1");
        for (var i = 1; i <= 5; i++)
        {
            counter.Tell(new Add(i), null);
        }

        Assert.Equal(new CounterState(15, 5), await counter.Ask<CounterState>("get"));
        var again = await Restarted(counter, "c1");
        Assert.Equal(new CounterState(15, 5), await again.Ask<CounterState>("get"));
        Assert.Equal(5L, await again.Ask<long>("seq"));
    }

    [Fact]
    public async Task CommandsDuringPersist_WaitAndSeeTheNewState()
    {
        var counter = Counter("c2");
        await counter.Ask<CounterState>("get");
        _journal.WriteGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        counter.Tell(new Add(7), null);
        var query = counter.Ask<CounterState>("get");
        await Task.Delay(100);
        Assert.False(query.IsCompleted, "a command was processed while an event was being persisted");
        _journal.WriteGate.SetResult();
        Assert.Equal(new CounterState(7, 1), await query);
    }

    [Fact]
    public async Task Snapshot_RecoveryStartsFromIt_ThenReplaysLaterEvents()
    {
        var counter = Counter("c3");
        for (var i = 0; i < 5; i++)
        {
            counter.Tell(new Add(1), null);
        }

        counter.Tell("snapshot", null);
        await TestActor.FishForMessageAsync<string>(m => m == "snapshot-saved:5");
        counter.Tell(new Add(10), null);
        counter.Tell(new Add(10), null);
        await counter.Ask<CounterState>("get");
        var again = await Restarted(counter, "c3");
        Assert.Equal(new CounterState(25, 7), await again.Ask<CounterState>("get"));
        Assert.Equal(2, await again.Ask<int>("replayed"));
        Assert.Equal(5, await again.Ask<long>("offered-at"));
    }

    [Fact]
    public async Task StorageFailure_StopsActor_HandlerNotRun()
    {
        var counter = Counter("c4");
        await counter.Ask<CounterState>("get");
        await TestActor.WatchAsync(counter);
        _journal.FailWrites = new IOException("disk on fire");
        counter.Tell(new Add(1), null);
        await TestActor.FishForMessageAsync<Terminated>(t => t.Actor.Equals(counter));
        _journal.FailWrites = null;
        Assert.Equal(new CounterState(0, 0), await Counter("c4").Ask<CounterState>("get"));
    }

    [Fact]
    public async Task Rejection_ActorContinues_NothingStored()
    {
        var counter = Counter("c5");
        counter.Tell("persist-unregistered", null);
        await TestActor.FishForMessageAsync<string>(m => m.StartsWith("rejected:", StringComparison.Ordinal));
        counter.Tell(new Add(2), null);
        Assert.Equal(new CounterState(2, 1), await counter.Ask<CounterState>("get"));
        Assert.Equal(1L, await counter.Ask<long>("seq"));
    }

    [Fact]
    public async Task Defer_RunsAfterEarlierPersistHandlers()
    {
        var counter = Counter("c6");
        counter.Tell("add-then-defer", null);
        Assert.Equal("deferred-after:3", await TestActor.FishForMessageAsync<string>(m => m.StartsWith("deferred", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DeleteMessages_NumberingContinuesAfterRecovery()
    {
        var counter = Counter("c7");
        for (var i = 0; i < 3; i++)
        {
            counter.Tell(new Add(1), null);
        }

        counter.Tell("delete-all", null);
        await TestActor.FishForMessageAsync<string>(m => m == "deleted:3");
        var again = await Restarted(counter, "c7");
        Assert.Equal(new CounterState(0, 0), await again.Ask<CounterState>("get"));
        Assert.Equal(3L, await again.Ask<long>("seq"));
        again.Tell(new Add(5), null);
        Assert.Equal(4L, await again.Ask<long>("seq"));
    }

    [Fact]
    public async Task RecoveryFailure_UnknownManifest_StopsActor()
    {
        await _journal.Inner.WriteAsync(new AtomicWrite("c8", [new PersistentRepr("c8", 1, "renamed-event.v9", [(byte)'{', (byte)'}'], DateTimeOffset.UtcNow, "w")]), CancellationToken.None);
        var counter = Counter("c8");
        await TestActor.WatchAsync(counter);
        await TestActor.FishForMessageAsync<Terminated>(t => t.Actor.Equals(counter));
    }

    [Fact]
    public async Task Recoveries_AreBoundedAndReadTogether()
    {
        _journal.ReplayGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actors = new List<IActorRef> { Counter("r0") };
        await AwaitConditionAsync(() => _journal.MaxConcurrentReplays == 1);
        actors.Add(Counter("r1"));
        await AwaitConditionAsync(() => _journal.MaxConcurrentReplays == 2);
        actors.AddRange(Enumerable.Range(2, 6).Select(i => Counter($"r{i}")));
        await Task.Delay(100);
        Assert.Equal(2, _journal.MaxConcurrentReplays); // max-concurrent-recoveries = 2: the other six wait
        _journal.ReplayGate.SetResult();
        foreach (var actor in actors)
        {
            Assert.Equal(new CounterState(0, 0), await actor.Ask<CounterState>("get"));
        }

        // The six that waited were read together: at most two more reads, not six.
        Assert.Equal(8, _journal.RecoveredStreams);
        Assert.InRange(_journal.RecoveryReads, 3, 4);
    }

    [Fact]
    public async Task Fence_NotHeld_PersistFailsAndActorStops()
    {
        var counter = Counter("c9", new WriteFence("shard-9", "me", 1));
        await counter.Ask<CounterState>("get");
        await TestActor.WatchAsync(counter);
        counter.Tell(new Add(1), null);
        Assert.Equal("persist-failed:FencingException", await TestActor.FishForMessageAsync<string>(m => m.StartsWith("persist-failed", StringComparison.Ordinal)));
        await TestActor.FishForMessageAsync<Terminated>(t => t.Actor.Equals(counter));
        _journal.Inner.SetLease("shard-9", "me", 1, DateTimeOffset.UtcNow.AddMinutes(1));
        var again = Counter("c9", new WriteFence("shard-9", "me", 1));
        again.Tell(new Add(1), null);
        Assert.Equal(new CounterState(1, 1), await again.Ask<CounterState>("get"));
    }

    [Fact]
    public void Serializer_UnknownManifest_And_Upcaster()
    {
        var serializer = new EventSerializer().Register("added.v2", TestEventsJsonContext.Default.Added);
        Assert.Contains("'added.v1'", Assert.Throws<UnknownManifestException>(() => serializer.Deserialize("added.v1", "{}"u8.ToArray())).Message, StringComparison.Ordinal);
        serializer.RegisterUpcaster("added.v1", json => ("added.v2", new JsonObject { ["Amount"] = (int)json["amount"]! * 100 }));
        Assert.Equal(new Added(300), serializer.Deserialize("added.v1", """{"amount":3}"""u8.ToArray()));
        Assert.Throws<ArgumentException>(() => serializer.Register("added.v2", TestEventsJsonContext.Default.Added));
        Assert.Contains("not registered", Assert.Throws<InvalidOperationException>(() => serializer.Serialize(new Unregistered("x"))).Message, StringComparison.Ordinal);
        var (manifest, payload) = serializer.Serialize(new Added(4));
        Assert.Equal("added.v2", manifest);
        Assert.Equal(new Added(4), serializer.Deserialize(manifest, payload));
    }

    private sealed record Add(int Amount);

    private sealed class CounterActor(string id, IActorRef probe, WriteFence? fence) : PersistentActor
    {
        private CounterState _state = new(0, 0);
        private int _replayed;
        private long _offeredAt = -1;

        public override string PersistenceId => id;

        protected override WriteFence? WriteFence => fence;

        protected override bool ReceiveRecover(object message)
        {
            switch (message)
            {
                case Added added:
                    _replayed++;
                    Apply(added);
                    return true;
                case SnapshotOffer offer:
                    _state = (CounterState)offer.Snapshot;
                    _offeredAt = offer.Metadata.SequenceNr;
                    return true;
                case RecoveryCompleted:
                    return true;
                default:
                    return false;
            }
        }

        protected override bool ReceiveCommand(object message)
        {
            switch (message)
            {
                case Add add:
                    Persist(new Added(add.Amount), Apply);
                    return true;
                case "get":
                    Sender.Tell(_state, Self);
                    return true;
                case "seq":
                    Sender.Tell(LastSequenceNr, Self);
                    return true;
                case "replayed":
                    Sender.Tell(_replayed, Self);
                    return true;
                case "offered-at":
                    Sender.Tell(_offeredAt, Self);
                    return true;
                case "snapshot":
                    SaveSnapshot(_state);
                    return true;
                case SaveSnapshotSuccess success:
                    probe.Tell($"snapshot-saved:{success.Metadata.SequenceNr}", Self);
                    return true;
                case "persist-unregistered":
                    Persist(new Unregistered("nope"), _ => probe.Tell("handler-ran", Self));
                    return true;
                case "add-then-defer":
                    PersistAll([new Added(1), new Added(1), new Added(1)], Apply);
                    Defer("x", _ => probe.Tell($"deferred-after:{_state.Events}", Self));
                    return true;
                case "delete-all":
                    DeleteMessages(LastSequenceNr);
                    return true;
                case DeleteMessagesSuccess deleted:
                    probe.Tell($"deleted:{deleted.ToSequenceNr}", Self);
                    return true;
                default:
                    return false;
            }
        }

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) => probe.Tell($"rejected:{@event.GetType().Name}", Self);

        protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) => probe.Tell($"persist-failed:{cause.GetType().Name}", Self);

        private void Apply(Added added) => _state = new CounterState(_state.Total + added.Amount, _state.Events + 1);
    }
}
