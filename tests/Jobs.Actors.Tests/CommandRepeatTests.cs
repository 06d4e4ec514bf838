using Jobs.Actors.Protocol;
using Jobs.Actors.Recurring;
using Jobs.Client;

namespace Jobs.Actors.Tests;

/// <summary>
/// Cancel, reschedule, retry and recurring-schedule calls are sent again when their answer does not come (a shard hand-off drops the
/// messages its region holds): the entity knows a repeat by the call's token, stored with the change it made, and
/// answers it as done without changing the job again, also after the entity started again elsewhere.
/// </summary>
public sealed class CommandRepeatTests
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ACancelSentAgain_IsAnsweredDone_AndCancelsOnce_WhileAnotherCallsCancelIsAConflict()
    {
        await using var node = await TestNode.StartAsync(Backend.Sqlite);
        var region = node.Node.Runtime!.Region;
        var id = await ScheduleLaterAsync(node, "cancel-twice");

        Assert.Same(JobAck.Instance, await region.AskEntity<JobAck>(new CancelJob(id, IfRevision: 1, Request: "call-1"), Ask));
        Assert.Same(JobAck.Instance, await region.AskEntity<JobAck>(new CancelJob(id, IfRevision: 1, Request: "call-1"), Ask));
        Assert.Equal(["job-scheduled.v1", "job-cancelled.v1"], await ManifestsAsync(node, id));

        await Assert.ThrowsAsync<JobStateConflictException>(() => region.AskEntity<JobAck>(new CancelJob(id, Request: "call-2"), Ask));
        await Assert.ThrowsAsync<JobStateConflictException>(() => region.AskEntity<JobAck>(new CancelJob(id), Ask));
    }

    [Fact]
    public async Task ARescheduleSentAgain_WithItsRevisionPrecondition_IsAnsweredDone_AndMovesTheJobOnce()
    {
        await using var node = await TestNode.StartAsync(Backend.Sqlite);
        var region = node.Node.Runtime!.Region;
        var id = await ScheduleLaterAsync(node, "move-twice");
        var to = node.Clock!.GetUtcNow().AddHours(2);

        var move = new RescheduleJob(id, to, IfRevision: 1, Request: "call-1");
        Assert.Same(JobAck.Instance, await region.AskEntity<JobAck>(move, Ask));
        Assert.Same(JobAck.Instance, await region.AskEntity<JobAck>(move, Ask));
        var info = await node.Client.GetAsync(id);
        Assert.Equal(2, info.Revision);
        Assert.Equal(to, info.DueAt);

        // Another call with the same precondition finds the revision moved on.
        await Assert.ThrowsAsync<JobPreconditionFailedException>(() => region.AskEntity<JobAck>(move with { Request = "call-2" }, Ask));
    }

    [Fact]
    public async Task ARetrySentAgain_IsAnsweredDone_AndRetriesOnce()
    {
        await using var node = await TestNode.StartAsync(Backend.Sqlite);
        var region = node.Node.Runtime!.Region;
        var id = await ScheduleLaterAsync(node, "retry-twice");
        await node.Client.CancelAsync(id);

        var retry = new RetryJob(id, "call-1");
        Assert.Same(JobAck.Instance, await region.AskEntity<JobAck>(retry, Ask));
        await node.WaitForStatusAsync(id, JobStatus.Succeeded);
        Assert.Same(JobAck.Instance, await region.AskEntity<JobAck>(retry, Ask)); // not "already succeeded": it is this call's repeat

        var manifests = await ManifestsAsync(node, id);
        Assert.Single(manifests, m => m == "job-retried.v1");
        Assert.Equal(JobStatus.Succeeded, (await node.Client.GetAsync(id)).Status);
        await Assert.ThrowsAsync<JobStateConflictException>(() => region.AskEntity<JobAck>(new RetryJob(id, "call-2"), Ask));
    }

    [Fact]
    public async Task EachClientCall_StoresItsOwnToken_WithTheChangeItMade()
    {
        await using var node = await TestNode.StartAsync(Backend.Sqlite);
        var moved = await ScheduleLaterAsync(node, "token-move");
        var cancelled = await ScheduleLaterAsync(node, "token-cancel");
        await node.Client.RescheduleAsync(moved, node.Clock!.GetUtcNow().AddHours(3));
        await node.Client.RescheduleAsync(moved, node.Clock!.GetUtcNow().AddHours(4), ifRevision: 2);
        await node.Client.CancelAsync(cancelled);

        var tokens = new List<string>();
        foreach (var (id, seq) in new[] { (moved, 2L), (moved, 3L), (cancelled, 2L) })
        {
            var stored = (await node.StoredEventsAsync(Entities.JobEntity.PersistenceIdOf(id)))[(int)seq - 1];
            tokens.Add(TestNode.RequestTokenOf(stored)!);
        }

        Assert.All(tokens, t => Assert.False(string.IsNullOrEmpty(t)));
        Assert.Equal(3, tokens.Distinct().Count());
    }

    [Fact]
    public async Task ARepeatReachingARecoveredEntity_IsAnsweredDone()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-command-repeat-").FullName;
        var storage = await TestNode.StorageConfigAsync(Backend.Sqlite, directory);
        try
        {
            string id;
            await using (var node = await TestNode.StartAsync(Backend.Sqlite, storageConfig: storage))
            {
                id = await ScheduleLaterAsync(node, "cancel-recovered");
                await node.Node.Runtime!.Region.AskEntity<JobAck>(new CancelJob(id, Request: "call-1"), Ask);
            }

            await using (var node = await TestNode.StartAsync(Backend.Sqlite, storageConfig: storage))
            {
                Assert.Same(JobAck.Instance, await node.Node.Runtime!.Region.AskEntity<JobAck>(new CancelJob(id, Request: "call-1"), Ask));
                Assert.Equal(["job-scheduled.v1", "job-cancelled.v1"], await ManifestsAsync(node, id));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ADestroySentAgain_FindsNoJob_WhichTheClientTakesAsDone_OnlyAfterARepeat()
    {
        // The entity keeps nothing of a destroyed job: its repeat finds no job (the client, having sent the call more
        // than once, takes that as done); a first call for an unknown id still fails as not found.
        await using var node = await TestNode.StartAsync(Backend.Sqlite);
        var region = node.Node.Runtime!.Region;
        var id = await ScheduleLaterAsync(node, "destroy-twice");
        Assert.Same(JobAck.Instance, await region.AskEntity<JobAck>(new DestroyJob(id), Ask));
        await Assert.ThrowsAsync<JobNotFoundException>(() => region.AskEntity<JobAck>(new DestroyJob(id), Ask));
        await Assert.ThrowsAsync<JobNotFoundException>(() => node.Client.DestroyAsync(id));
    }

    [Fact]
    public async Task RecurringCallsSentAgain_AreAnsweredDone_AndStoreNothingTheSecondTime()
    {
        // The client sends these again when their answer does not come; the schedule's entity must take the repeat as
        // done: set with the definition it has, pause when paused, resume when running; a deleted one is not found.
        await using var node = await TestNode.StartAsync(Backend.Sqlite);
        var request = new RecurringScheduleRequest
        {
            Name = "repeated",
            Kind = "echo",
            Cron = "0 0 * * *",
            Payload = System.Text.Json.JsonSerializer.SerializeToElement(new EchoPayload("daily")),
        };
        var first = await node.Client.SetRecurringAsync(request);
        Assert.Equal(first.UpdatedAt, (await node.Client.SetRecurringAsync(request)).UpdatedAt);
        await node.Client.PauseRecurringAsync("repeated");
        await node.Client.PauseRecurringAsync("repeated");
        await node.Client.ResumeRecurringAsync("repeated");
        await node.Client.ResumeRecurringAsync("repeated");
        var manifests = (await node.StoredEventsAsync("recurring-repeated")).Select(e => e.Manifest);
        Assert.Equal(["recurring-defined.v1", "recurring-paused.v1", "recurring-resumed.v1"], manifests);

        await node.Client.DeleteRecurringAsync("repeated");
        await Assert.ThrowsAsync<RecurringNotFoundException>(() =>
            node.Node.Runtime!.Recurring.AskEntity<JobAck>(new DeleteRecurring("repeated"), Ask)
        );
        await Assert.ThrowsAsync<RecurringNotFoundException>(() => node.Client.DeleteRecurringAsync("repeated"));
    }

    private static async Task<string> ScheduleLaterAsync(TestNode node, string id) =>
        (
            await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload(id)) with { JobId = id, Delay = TimeSpan.FromHours(1) })
        ).JobId;

    private static async Task<List<string>> ManifestsAsync(TestNode node, string id) =>
        [.. (await node.StoredEventsAsync(Entities.JobEntity.PersistenceIdOf(id))).Select(e => e.Manifest)];
}
