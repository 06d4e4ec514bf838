using System.Text;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Snapshots;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>The journal conformance suite (Akka.Persistence.TCK's role): every backend runs every test.</summary>
public abstract class JournalSpec<TBackend> : IAsyncLifetime
    where TBackend : JournalBackend, new()
{
    private readonly TBackend _backend = new();
    private readonly RecordingParticipant _participant = new();

    protected IJournal Journal => _backend.Journal;

    public Task InitializeAsync() => _backend.StartAsync([_participant]);

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    private static PersistentRepr Event(string pid, long seq, string text = "e") =>
        new(
            pid,
            seq,
            "test.v1",
            Encoding.UTF8.GetBytes($"{{\"text\":\"{text}{seq}\"}}"),
            DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + seq),
            "test-writer"
        );

    private static AtomicWrite Write(string pid, long from, int count, WriteFence? fence = null, bool attach = true) =>
        new(pid, [.. Enumerable.Range(0, count).Select(i => Event(pid, from + i))], fence, attach ? "index-row" : null);

    private async Task<List<PersistentRepr>> ReplayAll(string pid, long from = 1, long to = long.MaxValue, long max = long.MaxValue)
    {
        var list = new List<PersistentRepr>();
        await foreach (var e in Journal.ReplayAsync(pid, from, to, max, CancellationToken.None))
        {
            list.Add(e);
        }

        return list;
    }

    [Fact]
    public async Task Write_ThenReplay_ReturnsEventsInOrderWithContent()
    {
        await Journal.WriteAsync(Write("a", 1, 3), CancellationToken.None);
        await Journal.WriteAsync(Write("a", 4, 2), CancellationToken.None);
        var events = await ReplayAll("a");
        Assert.Equal([1L, 2, 3, 4, 5], events.Select(e => e.SequenceNr));
        Assert.Equal("{\"text\":\"e4\"}", Encoding.UTF8.GetString(events[3].Payload));
        Assert.Equal("test.v1", events[0].Manifest);
        Assert.Equal("test-writer", events[0].WriterId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_002), events[1].Timestamp);
    }

    [Fact]
    public async Task Replay_RangeAndMax_AreRespected()
    {
        await Journal.WriteAsync(Write("r", 1, 10), CancellationToken.None);
        Assert.Equal([3L, 4, 5], (await ReplayAll("r", 3, 5)).Select(e => e.SequenceNr));
        Assert.Equal([7L, 8], (await ReplayAll("r", 7, long.MaxValue, 2)).Select(e => e.SequenceNr));
        Assert.Empty(await ReplayAll("r", 11));
        Assert.Empty(await ReplayAll("unknown"));
    }

    [Fact]
    public async Task HighestSequenceNr_TracksWrites()
    {
        Assert.Equal(0, await Journal.ReadHighestSequenceNrAsync("h", CancellationToken.None));
        await Journal.WriteAsync(Write("h", 1, 7), CancellationToken.None);
        Assert.Equal(7, await Journal.ReadHighestSequenceNrAsync("h", CancellationToken.None));
    }

    [Fact]
    public async Task ConcurrentWriters_SameSequenceNumbers_ExactlyOneWins()
    {
        var attempts = Enumerable.Range(0, 20).Select(_ => Journal.WriteAsync(Write("c", 1, 2), CancellationToken.None)).ToList();
        var results = await Task.WhenAll(
            attempts.Select(async t =>
            {
                try
                {
                    await t;
                    return "ok";
                }
                catch (JournalConflictException)
                {
                    return "conflict";
                }
            })
        );
        Assert.Equal(1, results.Count(r => r == "ok"));
        Assert.Equal(19, results.Count(r => r == "conflict"));
        Assert.Equal(2, (await ReplayAll("c")).Count);
        Assert.Equal(2, await _participant.CountAsync("c"));
    }

    [Fact]
    public async Task BatchWithOneConflict_OtherWritesStillCommit()
    {
        await Journal.WriteAsync(Write("taken", 1, 1), CancellationToken.None);
        var writes = Enumerable.Range(0, 200).Select(i => Journal.WriteAsync(Write($"s{i}", 1, 1), CancellationToken.None)).ToList();
        var conflicting = Journal.WriteAsync(Write("taken", 1, 1), CancellationToken.None);
        await Task.WhenAll(writes);
        await Assert.ThrowsAsync<JournalConflictException>(() => conflicting);
        for (var i = 0; i < 200; i += 37)
        {
            Assert.Single(await ReplayAll($"s{i}"));
        }

        Assert.Equal(1, await _participant.CountAsync("taken"));
    }

    [Fact]
    public async Task ManyConcurrentStreams_AllStored()
    {
        const int streams = 500;
        await Task.WhenAll(
            Enumerable
                .Range(0, streams)
                .Select(async i =>
                {
                    for (var seq = 1; seq <= 4; seq++)
                    {
                        await Journal.WriteAsync(Write($"m{i}", seq, 1), CancellationToken.None);
                    }
                })
        );
        foreach (var i in new[] { 0, 123, 499 })
        {
            Assert.Equal([1L, 2, 3, 4], (await ReplayAll($"m{i}")).Select(e => e.SequenceNr));
        }
    }

    [Fact]
    public async Task ReplayMany_ReadsEachStreamFromItsOwnStart_WithHighestIncludingDeleted()
    {
        await Journal.WriteAsync(Write("m1", 1, 4), CancellationToken.None);
        await Journal.WriteAsync(Write("m2", 1, 3), CancellationToken.None);
        await Journal.DeleteMessagesToAsync("m2", 3, CancellationToken.None); // only the marker is left
        await Journal.WriteAsync(Write("m3", 1, 2), CancellationToken.None);
        var many = await Journal.ReplayManyAsync([("m1", 3), ("m2", 1), ("m3", 1), ("none", 1)], CancellationToken.None);
        Assert.Equal(4, many.Count);
        Assert.Equal([3L, 4], many["m1"].Events.Select(e => e.SequenceNr));
        Assert.Equal(4, many["m1"].HighestSequenceNr);
        Assert.Equal("{\"text\":\"e4\"}", Encoding.UTF8.GetString(many["m1"].Events[1].Payload));
        Assert.Equal("test-writer", many["m1"].Events[0].WriterId);
        Assert.Empty(many["m2"].Events);
        Assert.Equal(3, many["m2"].HighestSequenceNr);
        Assert.Equal([1L, 2], many["m3"].Events.Select(e => e.SequenceNr));
        Assert.Empty(many["none"].Events);
        Assert.Equal(0, many["none"].HighestSequenceNr);
    }

    [Fact]
    public async Task SerializerIds_RoundTrip_AndRowsWithoutOne_StayWithout()
    {
        var own = Event("z", 1);
        var foreign = Event("z", 2) with { SerializerId = 42, Manifest = "Q" };
        await Journal.WriteAsync(new AtomicWrite("z", [own, foreign]), CancellationToken.None);
        var replayed = await ReplayAll("z");
        Assert.Null(replayed[0].SerializerId);
        Assert.Equal(42, replayed[1].SerializerId);
        Assert.Equal("Q", replayed[1].Manifest);
        var many = await Journal.ReplayManyAsync([("z", 1)], CancellationToken.None);
        Assert.Equal([null, 42], many["z"].Events.Select(e => e.SerializerId));

        var store = _backend.Snapshots;
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        await store.SaveAsync(new SnapshotMetadata("z", 1, t0), "state.v1", [1], CancellationToken.None);
        Assert.Null((await store.LoadAsync("z", SnapshotSelectionCriteria.Latest, CancellationToken.None))!.SerializerId);
        await store.SaveAsync(new SnapshotMetadata("z", 2, t0), 7, "S", [2], CancellationToken.None);
        var loaded = await store.LoadAsync("z", SnapshotSelectionCriteria.Latest, CancellationToken.None);
        Assert.Equal(7, loaded!.SerializerId);
        Assert.Equal(7, (await store.LoadLatestManyAsync(["z"], CancellationToken.None))["z"].SerializerId);
    }

    [Fact]
    public async Task Snapshots_LoadLatestMany_PicksEachStreamsNewest()
    {
        var store = _backend.Snapshots;
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        await store.SaveAsync(new SnapshotMetadata("x", 5, t0), "state.v1", [5], CancellationToken.None);
        await store.SaveAsync(new SnapshotMetadata("x", 9, t0), "state.v1", [9], CancellationToken.None);
        await store.SaveAsync(new SnapshotMetadata("y", 2, t0), "state.v1", [2], CancellationToken.None);
        var latest = await store.LoadLatestManyAsync(["x", "y", "z"], CancellationToken.None);
        Assert.Equal(2, latest.Count);
        Assert.Equal(9, latest["x"].Metadata.SequenceNr);
        Assert.Equal([9], latest["x"].Payload);
        Assert.Equal(2, latest["y"].Metadata.SequenceNr);
        Assert.False(latest.ContainsKey("z"));
    }

    [Fact]
    public async Task DeleteMessagesTo_RemovesEvents_KeepsHighestSequenceNr()
    {
        await Journal.WriteAsync(Write("d", 1, 5), CancellationToken.None);
        await Journal.DeleteMessagesToAsync("d", 3, CancellationToken.None);
        Assert.Equal([4L, 5], (await ReplayAll("d")).Select(e => e.SequenceNr));
        await Journal.DeleteMessagesToAsync("d", 5, CancellationToken.None);
        Assert.Empty(await ReplayAll("d"));
        Assert.Equal(5, await Journal.ReadHighestSequenceNrAsync("d", CancellationToken.None));
        await Assert.ThrowsAsync<JournalConflictException>(() => Journal.WriteAsync(Write("d", 5, 1), CancellationToken.None));
        await Journal.WriteAsync(Write("d", 6, 1), CancellationToken.None);
        Assert.Equal([6L], (await ReplayAll("d")).Select(e => e.SequenceNr));
    }

    [Fact]
    public async Task Fence_HeldLease_Accepted()
    {
        await _backend.SetLeaseAsync("shard-1", "node-a", 3, TimeSpan.FromMinutes(1));
        await Journal.WriteAsync(Write("f", 1, 1, new WriteFence("shard-1", "node-a", 3)), CancellationToken.None);
        Assert.Single(await ReplayAll("f"));
    }

    [Theory]
    [InlineData("node-b", 3, 60)] // another owner
    [InlineData("node-a", 2, 60)] // an older epoch: a takeover happened
    [InlineData("node-a", 3, -1)] // expired by the database clock
    public async Task Fence_NotHeld_RejectedAndNothingStored(string owner, long epoch, int validForSeconds)
    {
        await _backend.SetLeaseAsync("shard-1", "node-a", 3, TimeSpan.FromSeconds(validForSeconds));
        var fence = new WriteFence("shard-1", owner, epoch);
        var error = await Assert.ThrowsAsync<FencingException>(() => Journal.WriteAsync(Write("f", 1, 2, fence), CancellationToken.None));
        Assert.Equal(fence, error.Fence);
        Assert.Empty(await ReplayAll("f"));
        Assert.Equal(0, await _participant.CountAsync("f"));
    }

    [Fact]
    public async Task Fence_MissingLease_Rejected_OtherWritesInBatchUnaffected()
    {
        var fenced = Journal.WriteAsync(Write("f", 1, 1, new WriteFence("no-such-lease", "node-a", 1)), CancellationToken.None);
        var plain = Enumerable.Range(0, 50).Select(i => Journal.WriteAsync(Write($"p{i}", 1, 1), CancellationToken.None)).ToList();
        await Assert.ThrowsAsync<FencingException>(() => fenced);
        await Task.WhenAll(plain);
        Assert.Single(await ReplayAll("p7"));
    }

    private ILeaseStore Leases => (ILeaseStore)Journal;

    [Fact]
    public async Task Lease_FreeIsTakenAtEpochOne_ItsOwnerKeepsTheEpoch_AnotherOwnerIsRefused()
    {
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("l", "h:1#a", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("l", "h:1#a", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Null(await Leases.TryAcquireLeaseAsync("l", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));

        // A write fenced with the holding is stored; the refused owner's is not.
        await Journal.WriteAsync(Write("lf", 1, 1, new WriteFence("l", "h:1#a", 1)), CancellationToken.None);
        await Assert.ThrowsAsync<FencingException>(() =>
            Journal.WriteAsync(Write("lf", 2, 1, new WriteFence("l", "h:2#b", 1)), CancellationToken.None)
        );
    }

    [Fact]
    public async Task Lease_ExpiredByTheDatabaseClock_IsTakenOverAtANewEpoch_AndTheOldHoldersWritesAndRenewalsFail()
    {
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("l", "h:1#a", "h:1#", TimeSpan.FromMilliseconds(1), CancellationToken.None));
        await Task.Delay(50);
        Assert.Equal(2, await Leases.TryAcquireLeaseAsync("l", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));
        await Assert.ThrowsAsync<FencingException>(() =>
            Journal.WriteAsync(Write("lf", 1, 1, new WriteFence("l", "h:1#a", 1)), CancellationToken.None)
        );
        Assert.Empty(await Leases.RenewLeasesAsync("h:1#a", ["l"], TimeSpan.FromMinutes(1), CancellationToken.None));
        await Journal.WriteAsync(Write("lf", 1, 1, new WriteFence("l", "h:2#b", 2)), CancellationToken.None);
    }

    [Fact]
    public async Task Lease_HeldByAFormerIncarnationOfTheSameAddress_IsTakenOverAtOnce()
    {
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("l", "h:1#old", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Null(await Leases.TryAcquireLeaseAsync("l", "h:10#x", "h:10#", TimeSpan.FromMinutes(1), CancellationToken.None)); // not a prefix match
        Assert.Equal(2, await Leases.TryAcquireLeaseAsync("l", "h:1#new", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
        await Assert.ThrowsAsync<FencingException>(() =>
            Journal.WriteAsync(Write("lf", 1, 1, new WriteFence("l", "h:1#old", 1)), CancellationToken.None)
        );
    }

    [Fact]
    public async Task Lease_RenewalOfManyInOneCall_ReturnsOnlyThoseStillHeld()
    {
        foreach (var name in new[] { "r1", "r2", "r3" })
        {
            Assert.Equal(1, await Leases.TryAcquireLeaseAsync(name, "h:1#a", "h:1#", TimeSpan.FromMilliseconds(1), CancellationToken.None));
        }

        await Task.Delay(50);
        Assert.Equal(2, await Leases.TryAcquireLeaseAsync("r2", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));
        var renewed = await Leases.RenewLeasesAsync("h:1#a", ["r1", "r2", "r3", "never-taken"], TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(new Dictionary<string, long> { ["r1"] = 1, ["r3"] = 1 }, renewed.OrderBy(r => r.Key).ToDictionary());

        // Renewed: live again, so another owner cannot take r1 now.
        Assert.Null(await Leases.TryAcquireLeaseAsync("r1", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task Lease_ManyTakenInOneCall_AsEachWouldBeAlone()
    {
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("held", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("expired", "h:2#b", "h:2#", TimeSpan.FromMilliseconds(1), CancellationToken.None));
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("former", "h:1#old", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("mine", "h:1#a", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
        await Task.Delay(50);

        var taken = await Leases.TryAcquireLeasesAsync(
            ["free", "held", "expired", "former", "mine"],
            "h:1#a",
            "h:1#",
            TimeSpan.FromMinutes(1),
            CancellationToken.None
        );

        // Free: epoch 1; another owner's live holding: refused; expired or a former incarnation's: taken over at a new
        // epoch; its own live holding: kept at its epoch.
        Assert.Equal(
            new Dictionary<string, long?>
            {
                ["free"] = 1,
                ["held"] = null,
                ["expired"] = 2,
                ["former"] = 2,
                ["mine"] = 1,
            },
            taken
        );
        Assert.Null(await Leases.TryAcquireLeaseAsync("free", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));
        var renewed = await Leases.RenewLeasesAsync(
            "h:1#a",
            ["free", "held", "expired", "former", "mine"],
            TimeSpan.FromMinutes(1),
            CancellationToken.None
        );
        Assert.Equal(["expired", "former", "free", "mine"], renewed.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Lease_Released_IsFreeAtOnce_AndItsEpochNeverGoesBack()
    {
        Assert.Equal(1, await Leases.TryAcquireLeaseAsync("l", "h:1#a", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
        await Leases.ReleaseLeaseAsync("l", "h:2#b", CancellationToken.None); // not the holder: nothing happens
        Assert.Null(await Leases.TryAcquireLeaseAsync("l", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));
        await Leases.ReleaseLeaseAsync("l", "h:1#a", CancellationToken.None);
        await Assert.ThrowsAsync<FencingException>(() =>
            Journal.WriteAsync(Write("lf", 1, 1, new WriteFence("l", "h:1#a", 1)), CancellationToken.None)
        );
        Assert.Equal(2, await Leases.TryAcquireLeaseAsync("l", "h:2#b", "h:2#", TimeSpan.FromMinutes(1), CancellationToken.None));
        await Leases.ReleaseLeaseAsync("l", "h:2#b", CancellationToken.None);
        Assert.Equal(3, await Leases.TryAcquireLeaseAsync("l", "h:1#a", "h:1#", TimeSpan.FromMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task Clock_IsTheOneLeasesExpireBy_AndMoves()
    {
        var first = await Leases.ReadClockAsync(CancellationToken.None);
        Assert.InRange(first, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1)); // the test's server runs on this machine
        await Task.Delay(30);
        Assert.True(await Leases.ReadClockAsync(CancellationToken.None) > first);
    }

    [Fact]
    public async Task Participant_WritesInSameTransaction()
    {
        await Journal.WriteAsync(Write("x", 1, 3), CancellationToken.None);
        await Journal.WriteAsync(Write("x", 4, 1, attach: false), CancellationToken.None);
        Assert.Equal(3, await _participant.CountAsync("x"));
    }

    [Fact]
    public async Task InvalidWrite_Throws()
    {
        var gap = new AtomicWrite("g", [Event("g", 1), Event("g", 3)]);
        var error = Assert.Throws<ArgumentException>(() => gap.Validate());
        Assert.Contains("non-consecutive", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await Journal.WriteAsync(gap, CancellationToken.None));
    }

    [Fact]
    public async Task Snapshots_SaveLoadLatest_CriteriaAndDelete()
    {
        var store = _backend.Snapshots;
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        await store.SaveAsync(new SnapshotMetadata("s", 10, t0), "state.v1", [1], CancellationToken.None);
        await store.SaveAsync(new SnapshotMetadata("s", 20, t0.AddSeconds(1)), "state.v1", [2], CancellationToken.None);
        await store.SaveAsync(new SnapshotMetadata("s", 30, t0.AddSeconds(2)), "state.v1", [3], CancellationToken.None);
        Assert.Equal(30, (await store.LoadAsync("s", SnapshotSelectionCriteria.Latest, CancellationToken.None))!.Metadata.SequenceNr);
        Assert.Equal([2], (await store.LoadAsync("s", new SnapshotSelectionCriteria(25, DateTimeOffset.MaxValue), CancellationToken.None))!.Payload);
        Assert.Equal(10, (await store.LoadAsync("s", new SnapshotSelectionCriteria(long.MaxValue, t0), CancellationToken.None))!.Metadata.SequenceNr);
        Assert.Null(await store.LoadAsync("s", SnapshotSelectionCriteria.None, CancellationToken.None));
        await store.SaveAsync(new SnapshotMetadata("s", 30, t0.AddSeconds(3)), "state.v1", [4], CancellationToken.None);
        Assert.Equal([4], (await store.LoadAsync("s", SnapshotSelectionCriteria.Latest, CancellationToken.None))!.Payload);
        await store.DeleteAsync("s", new SnapshotSelectionCriteria(20, DateTimeOffset.MaxValue), CancellationToken.None);
        Assert.Null(await store.LoadAsync("s", new SnapshotSelectionCriteria(25, DateTimeOffset.MaxValue), CancellationToken.None));
        Assert.NotNull(await store.LoadAsync("s", SnapshotSelectionCriteria.Latest, CancellationToken.None));
        Assert.Null(await store.LoadAsync("other", SnapshotSelectionCriteria.Latest, CancellationToken.None));
    }
}

public sealed class InMemoryJournalSpec : JournalSpec<MemoryBackend>;

public sealed class SqliteJournalSpec : JournalSpec<SqliteBackend>;

public sealed class PostgresJournalSpec : JournalSpec<PostgresBackend>;
