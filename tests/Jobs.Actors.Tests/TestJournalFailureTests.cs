using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence.TestKit;
using Jobs.Client;
using Jobs.Persistence.Plugin;

namespace Jobs.Actors.Tests;

/// <summary>
/// The job entity's storage failure paths on Akka.Persistence.TestKit's test journal (put at the job system's plugin
/// id): a failed write and a rejected write are both answered with storage-failure and change nothing; once writes
/// pass, the job is stored, and an entity that recovers from the test journal (which keeps and replays the
/// envelope the index row travels in) comes back with its state.
/// </summary>
public sealed class TestJournalFailureTests
{
    private const string OnTestJournal = """
        akka.persistence.journal.jobs-sql.class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
        akka.persistence.snapshot-store.jobs-sql.class = "Akka.Persistence.TestKit.TestSnapshotStore, Akka.Persistence.TestKit"
        """;

    [Fact]
    public async Task FailedAndRejectedWrites_AreStorageFailures_ThenTheJobIsStoredAndRecoversFromTheEnvelope()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory, manualClock: false, extraConfig: OnTestJournal);
        var journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(node.Node.System!).JournalFor(SqlPersistence.JournalPluginId));
        var request = ScheduleRequest.Create("echo", new EchoPayload("later")) with { JobId = "tj-1", Delay = TimeSpan.FromHours(1) };

        await journal.OnWrite.Fail();
        Assert.Equal("storage-failure", (await Assert.ThrowsAsync<JobsException>(() => node.Client.ScheduleAsync(request))).ErrorCode);
        await journal.OnWrite.Reject();
        Assert.Equal("storage-failure", (await Assert.ThrowsAsync<JobsException>(() => node.Client.ScheduleAsync(request))).ErrorCode);

        await journal.OnWrite.Pass();
        await Assert.ThrowsAsync<JobNotFoundException>(() => node.Client.GetAsync("tj-1")); // nothing of the refused writes
        Assert.False((await node.Client.ScheduleAsync(request)).AlreadyExisted);

        // A job due in an hour passivates after passivate-waiting-after (2 s); reading it recovers a fresh entity
        // from the test journal, which replays what it was given: the event inside its index envelope.
        var region = ClusterSharding.Get(node.Node.System!).ShardRegion("job");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (
            (await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5))).Shards.Any(s =>
                s.EntityIds.Contains("tj-1")
            )
        )
        {
            Assert.True(DateTime.UtcNow < deadline, "the entity did not passivate");
            await Task.Delay(100);
        }

        var info = await node.Client.GetAsync("tj-1");
        Assert.Equal(JobStatus.Scheduled, info.Status);
        Assert.Equal("later", info.Payload.GetProperty("text").GetString());
    }
}
