using System.Runtime.CompilerServices;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Memory;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>A write group once stored holds nothing of what it wrote (its timeout timer is gone with it).</summary>
public sealed class JournalWriteGroupTests
{
    [Fact]
    public async Task ACommittedGroup_ReleasesItsWrites_LongBeforeItsTimeout()
    {
        await using var journal = new InMemoryJournal();
        await journal.StartAsync(CancellationToken.None);
        var attachment = await CommitOneAsync(journal);

        // The group's timer is disposed by a continuation of its commit, which may run a moment after the commit
        // is observed: the write must be unreachable within a second (its timeout is ten minutes).
        for (var i = 0; i < 50 && IsAlive(attachment); i++)
        {
            await Task.Delay(20);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        Assert.False(IsAlive(attachment), "the committed group's write is still reachable");
        Assert.Equal(1, await journal.ReadHighestSequenceNrAsync("g-1", CancellationToken.None));
    }

    [Fact]
    public async Task AGroupThatTimesOut_FailsAndStoresNothing()
    {
        await using var journal = new InMemoryJournal();
        await journal.StartAsync(CancellationToken.None);
        var group = new JournalWriteGroup(journal, expected: 2, TimeSpan.FromMilliseconds(100));
        var first = group.AddAsync(Write("g-2", new object()));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => first);
        Assert.Contains("1 answered", error.Message);
        group.Skip(); // the last answer comes too late: nothing is written
        Assert.Equal(0, await journal.ReadHighestSequenceNrAsync("g-2", CancellationToken.None));
    }

    /// <summary>Looked at in a frame of its own, so that no local of the test keeps the target alive.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool IsAlive(WeakReference<object> reference) => reference.TryGetTarget(out _);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference<object>> CommitOneAsync(InMemoryJournal journal)
    {
        var attachment = new object();
        var group = new JournalWriteGroup(journal, expected: 1, TimeSpan.FromMinutes(10));
        await group.AddAsync(Write("g-1", attachment));
        return new WeakReference<object>(attachment);
    }

    private static AtomicWrite Write(string stream, object attachment) =>
        new(stream, [new PersistentRepr(stream, 1, "m", [1], DateTimeOffset.UnixEpoch, "w")], Attachment: attachment);
}
