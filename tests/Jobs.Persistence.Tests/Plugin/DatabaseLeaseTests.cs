using Akka.Actor;
using Akka.Configuration;
using Akka.Coordination;
using Akka.Event;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Leases;
using Jobs.Persistence.Memory;
using Jobs.Persistence.Plugin;
using Jobs.Testing;

namespace Jobs.Persistence.Tests.Plugin;

/// <summary>
/// The lease on the journal's database as Akka uses it: created by Akka's lease provider from HOCON, exclusive,
/// renewed in the background, reported lost when taken over or when the database stops answering, taken over by
/// another node once its holder stopped renewing, and a fence that stops the old holder's writes.
/// </summary>
public sealed class DatabaseLeaseTests
{
    private static Config Configure(string store) =>
        ConfigurationFactory
            .ParseString(
                $$"""
                akka.loglevel = WARNING
                {{SqlPersistence.JournalPluginId}} { {{store}} }
                {{DatabaseLease.ConfigPath}} { heartbeat-timeout = 4s, heartbeat-interval = 300ms, lease-operation-timeout = 2s }
                """
            )
            .WithFallback(SqlPersistence.DefaultConfig);

    private static DatabaseLease LeaseOf(ActorSystem system, string name, string owner) =>
        Assert.IsType<DatabaseLease>(LeaseProvider.Get(system).GetLease(name, DatabaseLease.ConfigPath, owner));

    private static async Task<string> PostgresStoreAsync()
    {
        var connection = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("lease");
        return $"provider = postgresql, postgresql-connection-string = \"{connection}\"";
    }

    private static string SqliteStore() =>
        $"provider = sqlite, sqlite-path = \"{Path.Combine(Directory.CreateTempSubdirectory("jobs-lease-").FullName, "lease.db")}\"";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALease_IsExclusive_StaysHeldWhileRenewed_AndIsFreeAtOnceWhenReleased(bool postgres)
    {
        using var system = ActorSystem.Create("lease", Configure(postgres ? await PostgresStoreAsync() : SqliteStore()));
        var first = LeaseOf(system, "shard-1", "host:1");
        var second = LeaseOf(system, "shard-1", "host:2");
        Assert.True(await first.Acquire());
        Assert.True(first.CheckLease());
        Assert.Equal(1, first.Epoch);
        Assert.False(await second.Acquire());

        // Longer than a timeout later the holder still has it: the background renewal kept it.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.True(first.CheckLease());
        Assert.False(await second.Acquire());

        Assert.True(await first.Release());
        Assert.False(first.CheckLease());
        await AcquireSoonAsync(second); // released in the background: free well before the timeout
        Assert.Equal(2, second.Epoch);
    }

    /// <summary>Takes <paramref name="lease"/>, retrying for up to 2 s (half the leases' timeout: a release, not an expiry).</summary>
    private static async Task AcquireSoonAsync(DatabaseLease lease)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await lease.Acquire())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"{lease.Settings.LeaseName} was not free 2 s after its release");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task ReleasingManyLeasesAtOnce_ByCallersThatWaitOnTheirThreads_CompletesAtOnce_AndFreesThemAll()
    {
        // A node's stopping shards each wait for their lease's release on their own thread. The release returns
        // complete (nothing to wait for), gives the lease up here at once, and expires each row in the background.
        using var system = ActorSystem.Create("lease", Configure(await PostgresStoreAsync()));
        var held = Enumerable.Range(0, 64).Select(i => LeaseOf(system, $"shard-{i}", "host:1")).ToList();
        foreach (var lease in held)
        {
            Assert.True(await lease.Acquire());
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var waits = held.Select(lease =>
                Task.Run(() =>
                {
                    var release = lease.Release();
                    Assert.True(release.IsCompletedSuccessfully, "the release left its caller something to wait for");
                    Assert.False(lease.CheckLease());
                    return release.GetAwaiter().GetResult();
                })
            )
            .ToList();
        Assert.All(await Task.WhenAll(waits), Assert.True);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"64 releases took {watch.Elapsed.TotalSeconds:F1} s");

        foreach (var i in Enumerable.Range(0, 64))
        {
            var taker = LeaseOf(system, $"shard-{i}", "host:2");
            await AcquireSoonAsync(taker);
            Assert.Equal(2, taker.Epoch);
        }

        // The same owner takes a lease again right after releasing it: its release lands first, not on the new holding.
        var again = LeaseOf(system, "shard-again", "host:1");
        Assert.True(await again.Acquire());
        Assert.True(await again.Release());
        Assert.True(await again.Acquire());
        await Task.Delay(TimeSpan.FromSeconds(1)); // renewals run every 300 ms: a lost holding would show by now
        Assert.True(again.CheckLease());
        Assert.Equal(2, again.Epoch);
    }

    [Fact]
    public async Task ALeaseTakenOver_IsReportedLost_AndTheOldHoldersFencedWritesAreRefused()
    {
        using var system = ActorSystem.Create("lease", Configure("provider = provided"));
        await using var journal = new InMemoryJournal();
        await journal.StartAsync(CancellationToken.None);
        SqlPersistence.Get(system).Provide(journal, new InMemorySnapshotStore());
        var lease = LeaseOf(system, "shard-7", "host:1");
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await lease.Acquire(ex => lost.TrySetResult(ex)));
        var fence = lease.Fence;
        Assert.Equal(new WriteFence("shard-7", lease.Owner, 1), fence);
        await journal.WriteAsync(new AtomicWrite("s", [Event("s", 1)], fence), CancellationToken.None);

        // A new process on the same address (a restart) takes it over at once, at the next epoch.
        Assert.Equal(
            2,
            await journal.TryAcquireLeaseAsync("shard-7", "host:1#restarted", "host:1#", TimeSpan.FromMinutes(1), CancellationToken.None)
        );
        var why = await lost.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.IsType<LeaseException>(why);
        Assert.Contains("shard-7", why.Message, StringComparison.Ordinal);
        Assert.False(lease.CheckLease());
        Assert.Equal(0, lease.Fence.Epoch);
        await Assert.ThrowsAsync<FencingException>(() => journal.WriteAsync(new AtomicWrite("s", [Event("s", 2)], fence), CancellationToken.None));
    }

    [Fact]
    public async Task AHolderStoppedWithoutReleasing_LosesTheLeaseToAnotherNodeAfterTheTimeout_AtANewEpoch()
    {
        var store = await PostgresStoreAsync();
        using var crashed = ActorSystem.Create("lease", Configure(store));
        var held = LeaseOf(crashed, "singleton", "host:1");
        Assert.True(await held.Acquire());
        var oldFence = held.Fence;
        held.Keeper.Dispose(); // a process killed: its renewals just stop, nothing is released

        using var other = ActorSystem.Create("lease", Configure(store));
        var taker = LeaseOf(other, "singleton", "host:2");
        Assert.False(await taker.Acquire());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await taker.Acquire())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the lease was not free 10 s after its holder stopped (timeout 4 s)");
            await Task.Delay(200);
        }

        Assert.Equal(2, taker.Epoch);
        Assert.NotEqual(oldFence.Owner, taker.Owner);
    }

    [Fact]
    public async Task AnActorSystemThatTerminates_ReleasesTheLeasesItStillHeld_SoAnotherNodeTakesThemAtOnce()
    {
        // A downed member's shards and singleton stop without releasing their leases; once its actor system has
        // terminated nothing of it acts any more, and its keeper gives them back rather than let them run out.
        var store = await PostgresStoreAsync();
        var leaving = ActorSystem.Create("lease", Configure(store));
        foreach (var name in new[] { "singleton", "shard-1", "shard-2" })
        {
            Assert.True(await LeaseOf(leaving, name, "host:1").Acquire());
        }

        await leaving.Terminate();
        using var other = ActorSystem.Create("lease", Configure(store));
        foreach (var name in new[] { "singleton", "shard-1", "shard-2" })
        {
            var taker = LeaseOf(other, name, "host:2");
            Assert.True(await taker.Acquire(), $"{name} was still held after its holder's actor system terminated (timeout 4 s)");
            Assert.Equal(2, taker.Epoch);
        }
    }

    [Fact]
    public async Task WhileTheDatabaseDoesNotAnswer_HeldLeasesRunOutAfterTheTimeout_AndAreReportedLost()
    {
        var journal = new InMemoryJournal();
        var down = false;
        using var system = ActorSystem.Create("lease-keeper");
        using var keeper = new LeaseKeeper(
            "host:1",
            _ => down ? Task.FromException<ILeaseStore>(new TimeoutException("the database does not answer")) : Task.FromResult<ILeaseStore>(journal),
            TimeSpan.FromSeconds(1),
            TimeSpan.FromMilliseconds(200),
            TimeSpan.FromSeconds(1),
            Logging.GetLogger(system, typeof(LeaseKeeperTestsLog))
        );
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await keeper.AcquireAsync("a", ex => lost.TrySetResult(ex)));
        await Task.Delay(1500);
        Assert.Equal(1, keeper.EpochOf("a")); // renewed meanwhile

        down = true;
        var since = System.Diagnostics.Stopwatch.StartNew();
        var why = await lost.Task.WaitAsync(TimeSpan.FromSeconds(5));

        // Lost within the timeout of the last renewal that reached the database (sooner when renewals lagged).
        var elapsed = since.Elapsed;
        Assert.True(
            elapsed < TimeSpan.FromSeconds(3),
            $"the lease was reported lost only {elapsed} after the database stopped answering (timeout 1 s)"
        );
        Assert.Contains("did not answer", why.Message, StringComparison.Ordinal);
        Assert.Null(keeper.EpochOf("a"));
        Assert.True(keeper.SinceContact >= elapsed); // its last contact was before the database stopped answering
    }

    [Fact]
    public async Task LeasesAskedForTogether_AreTakenInOneTransaction()
    {
        // A node starting its shards asks for dozens of leases at once: one transaction each kept a burst of due
        // jobs waiting up to a second on PostgreSQL (docs/benchmarks.md).
        var store = new CountingLeaseStore(new InMemoryJournal());
        using var system = ActorSystem.Create("lease-keeper");
        using var keeper = new LeaseKeeper(
            "host:1",
            _ => Task.FromResult<ILeaseStore>(store),
            TimeSpan.FromSeconds(10),
            TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(5),
            Logging.GetLogger(system, typeof(LeaseKeeperTestsLog))
        );

        var names = Enumerable.Range(0, 64).Select(i => $"shard-{i}").ToList();
        var acquired = await Task.WhenAll(names.Select(name => Task.Run(() => keeper.AcquireAsync(name, null))));

        Assert.All(acquired, Assert.True);
        Assert.All(names, name => Assert.Equal(1, keeper.EpochOf(name)));
        Assert.Equal(0, store.SingleCalls);
        Assert.InRange(store.BatchCalls, 1, 4); // the first alone, then those asked for meanwhile, together
    }

    [Fact]
    public async Task ALeaseWhoseTakeoverWaitsForWritesInFlight_DoesNotHoldBackTheLeasesAskedForWithIt()
    {
        var connection = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("lease");
        using var system = ActorSystem.Create("lease", Configure($"provider = postgresql, postgresql-connection-string = \"{connection}\""));
        var warm = LeaseOf(system, "warm-up", "host:1");
        Assert.True(await warm.Acquire()); // (the journal's schema is in place)

        // A batch of writes fenced with "busy" is in flight (its writer holds the lease's lock shared until it commits).
        await using var writer = new Npgsql.NpgsqlConnection(connection);
        await writer.OpenAsync();
        await using var inFlight = await writer.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("SELECT pg_advisory_xact_lock_shared(hashtextextended('busy', 7402))", writer, inFlight))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var busy = LeaseOf(system, "busy", "host:1");
        var others = Enumerable.Range(0, 8).Select(i => LeaseOf(system, $"free-{i}", "host:1")).ToList();
        var busyTaken = busy.Acquire();
        var othersTaken = Task.WhenAll(others.Select(l => l.Acquire()));

        Assert.All(await othersTaken.WaitAsync(TimeSpan.FromSeconds(1.5)), Assert.True); // within the operation timeout (2 s)
        Assert.False(busyTaken.IsCompleted); // it waits for the batch in flight, alone

        await inFlight.CommitAsync();
        Assert.True(await busyTaken.WaitAsync(TimeSpan.FromSeconds(1.5)));
    }

    /// <summary>A lease store that counts its acquisition calls (the database behind it is real).</summary>
    private sealed class CountingLeaseStore(ILeaseStore inner) : ILeaseStore
    {
        private int _singleCalls;
        private int _batchCalls;

        public int SingleCalls => _singleCalls;

        public int BatchCalls => _batchCalls;

        public Task<long?> TryAcquireLeaseAsync(
            string name,
            string owner,
            string formerOwnerPrefix,
            TimeSpan duration,
            CancellationToken cancellationToken
        )
        {
            Interlocked.Increment(ref _singleCalls);
            return inner.TryAcquireLeaseAsync(name, owner, formerOwnerPrefix, duration, cancellationToken);
        }

        public async Task<IReadOnlyDictionary<string, long?>> TryAcquireLeasesAsync(
            IReadOnlyCollection<string> names,
            string owner,
            string formerOwnerPrefix,
            TimeSpan duration,
            CancellationToken cancellationToken
        )
        {
            Interlocked.Increment(ref _batchCalls);
            await Task.Delay(20, cancellationToken); // a database round trip: more askers arrive meanwhile
            return await inner.TryAcquireLeasesAsync(names, owner, formerOwnerPrefix, duration, cancellationToken);
        }

        public Task<IReadOnlyDictionary<string, long>> RenewLeasesAsync(
            string owner,
            IReadOnlyCollection<string> names,
            TimeSpan duration,
            CancellationToken cancellationToken
        ) => inner.RenewLeasesAsync(owner, names, duration, cancellationToken);

        public Task ReleaseLeaseAsync(string name, string owner, CancellationToken cancellationToken) =>
            inner.ReleaseLeaseAsync(name, owner, cancellationToken);

        public Task<DateTimeOffset> ReadClockAsync(CancellationToken cancellationToken) => inner.ReadClockAsync(cancellationToken);
    }

    private static PersistentRepr Event(string pid, long seq) => new(pid, seq, "test.v1", [1, 2, 3], DateTimeOffset.UnixEpoch, "writer");

    /// <summary>The log source of the keeper under test.</summary>
    private sealed class LeaseKeeperTestsLog;
}
