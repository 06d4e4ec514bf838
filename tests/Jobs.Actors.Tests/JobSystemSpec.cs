using Jobs.Client;

namespace Jobs.Actors.Tests;

/// <summary>End-to-end behaviour of one node, on fake time where time matters; run against every backend.</summary>
public abstract class JobSystemSpec(Backend backend) : IAsyncLifetime
{
    private TestNode _node = null!;

    protected TestNode Node => _node;

    protected IJobsClient Client => _node.Client;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(backend);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static ScheduleRequest Echo(string text, string? id = null) => ScheduleRequest.Create("echo", new EchoPayload(text)) with { JobId = id };

    [Fact]
    public async Task Schedule_Now_RunsOnce_Succeeds_ResultStored()
    {
        var result = await Client.ScheduleAsync(Echo("hello"));
        Assert.False(result.AlreadyExisted);
        var info = await Node.WaitForStatusAsync(result.JobId, JobStatus.Succeeded);
        Assert.Equal("hello", info.Result!.Value.GetProperty("echo").GetString());
        Assert.Equal(1, info.AttemptCount);
        Assert.Equal(1, info.SuccessCount);
        Assert.Equal("test-node", info.StartedBy);
        Assert.NotNull(info.CompletedAt);
        var attempt = Assert.Single(info.Attempts);
        Assert.Equal(AttemptOutcome.Succeeded, attempt.Outcome);
        Assert.Equal(1, Node.Log.Runs(result.JobId));
        Assert.Equal("hello", info.Payload.GetProperty("text").GetString());
    }

    [Fact]
    public async Task List_NewestFirst_PagesThroughEveryJobOnce_InOrderOfTheirLastChange()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await Client.ScheduleAsync(Echo("n" + i, "newest-" + i) with { Delay = TimeSpan.FromHours(1), Priority = i % 2 })).JobId);
            Node.Clock!.Advance(TimeSpan.FromMilliseconds(10));
        }

        await Client.RescheduleAsync("newest-1", Node.Clock!.GetUtcNow().AddHours(2)); // changed last: first in the list
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Client.ListAsync(
                new JobQuery
                {
                    Order = JobListOrder.Newest,
                    Limit = 2,
                    Cursor = cursor,
                    Status = JobStatus.Scheduled,
                }
            );
            seen.AddRange(page.Items.Select(j => j.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);

        Assert.Equal(["newest-1", "newest-4", "newest-3", "newest-2", "newest-0"], seen);
        var backlogCursor = (await Client.ListAsync(new JobQuery { Limit = 1 })).NextCursor;
        var wrong = await Assert.ThrowsAsync<JobValidationException>(() =>
            Client.ListAsync(new JobQuery { Order = JobListOrder.Newest, Cursor = backlogCursor })
        );
        Assert.Equal("cursor", wrong.Field);
    }

    [Fact]
    public async Task Schedule_SameClientId_Twice_IsIdempotent()
    {
        var first = await Client.ScheduleAsync(Echo("a", "client-id-1"));
        var second = await Client.ScheduleAsync(Echo("b", "client-id-1"));
        Assert.Equal("client-id-1", first.JobId);
        Assert.False(first.AlreadyExisted);
        Assert.True(second.AlreadyExisted);
        var info = await Node.WaitForStatusAsync("client-id-1", JobStatus.Succeeded);
        Assert.Equal("a", info.Payload.GetProperty("text").GetString());
        Assert.Equal(1, Node.Log.Runs("client-id-1"));
    }

    [Fact]
    public async Task Schedule_Delayed_WaitsForDueTime_OnFakeClock()
    {
        var clock = Node.Clock!;
        var id = (await Client.ScheduleAsync(Echo("later") with { Delay = TimeSpan.FromMinutes(10) })).JobId;
        Assert.Equal(JobStatus.Scheduled, (await Client.GetAsync(id)).Status);
        clock.Advance(TimeSpan.FromMinutes(9));
        await Task.Delay(200);
        Assert.Equal(0, Node.Log.Runs(id));
        Assert.Equal(JobStatus.Scheduled, (await Client.GetAsync(id)).Status);
        clock.Advance(TimeSpan.FromMinutes(1));
        await Node.WaitForStatusAsync(id, JobStatus.Succeeded);
        Assert.Equal(1, Node.Log.Runs(id));
    }

    [Fact]
    public async Task FailingHandler_RetriesWithBackoff_ThenSucceeds()
    {
        var clock = Node.Clock!;
        var id = (await Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(2)))).JobId;
        var info = await WaitForAttemptsAsync(id, 1);
        Assert.Equal(JobStatus.Scheduled, info.Status);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(1), info.DueAt); // backoff min 1s, jitter 0
        Assert.Contains("failure 1", info.Attempts[0].Error, StringComparison.Ordinal);
        Assert.NotNull(info.Attempts[0].StackTrace);
        clock.Advance(TimeSpan.FromSeconds(1));
        info = await WaitForAttemptsAsync(id, 2);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(2), info.DueAt); // doubled
        clock.Advance(TimeSpan.FromSeconds(2));
        info = await Node.WaitForStatusAsync(id, JobStatus.Succeeded);
        Assert.Equal(3, info.AttemptCount);
        Assert.Equal([AttemptOutcome.Failed, AttemptOutcome.Failed, AttemptOutcome.Succeeded], info.Attempts.Select(a => a.Outcome));
    }

    [Fact]
    public async Task FailingHandler_NoAttemptsLeft_EndsFailed()
    {
        var clock = Node.Clock!;
        var id = (await Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(10)) with { MaxAttempts = 2 })).JobId;
        await WaitForAttemptsAsync(id, 1);
        clock.Advance(TimeSpan.FromSeconds(1));
        var info = await Node.WaitForStatusAsync(id, JobStatus.Failed);
        Assert.Equal(2, info.AttemptCount);
        Assert.Contains("failure 2", info.LastError, StringComparison.Ordinal);
        clock.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(100);
        Assert.Equal(2, Node.Log.Runs(id));
    }

    [Fact]
    public async Task PermanentFailure_IsNotRetried()
    {
        var id = (await Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(0, Permanent: true)))).JobId;
        var info = await Node.WaitForStatusAsync(id, JobStatus.Failed);
        Assert.Equal(AttemptOutcome.FailedPermanently, Assert.Single(info.Attempts).Outcome);
        Assert.Equal("bad input, do not retry", info.LastError);
    }

    [Fact]
    public async Task Timeout_CancelsToken_RecordedAndRetried_ThenFails()
    {
        var clock = Node.Clock!;
        var id = (
            await Client.ScheduleAsync(
                ScheduleRequest.Create("wait", new WaitPayload("never-" + Guid.NewGuid())) with
                {
                    Timeout = TimeSpan.FromSeconds(5),
                }
            )
        ).JobId;

        // The handler's start, not the entity's Running: the worker arms the attempt's timeout on the clock after the
        // start is stored, so advancing the clock between the two would leave the timeout never due.
        await WaitUntilAsync(() => Task.FromResult(Node.Log.Runs(id) == 1));
        clock.Advance(TimeSpan.FromSeconds(5));
        var info = await WaitForAttemptsAsync(id, 1, AttemptOutcome.TimedOut);
        Assert.Equal(JobStatus.Scheduled, info.Status);
        clock.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => Task.FromResult(Node.Log.Runs(id) == 2));
        clock.Advance(TimeSpan.FromSeconds(5));
        info = await Node.WaitForStatusAsync(id, JobStatus.Failed); // max-timeout-retries = 1
        Assert.Equal([AttemptOutcome.TimedOut, AttemptOutcome.TimedOut], info.Attempts.Select(a => a.Outcome));
    }

    [Fact]
    public async Task Cancel_Waiting_NeverRuns()
    {
        var clock = Node.Clock!;
        var id = (await Client.ScheduleAsync(Echo("x") with { Delay = TimeSpan.FromMinutes(1) })).JobId;
        await Client.CancelAsync(id);
        Assert.Equal(JobStatus.Cancelled, (await Client.GetAsync(id)).Status);
        clock.Advance(TimeSpan.FromMinutes(2));
        await Task.Delay(200);
        Assert.Equal(0, Node.Log.Runs(id));
        await Assert.ThrowsAsync<JobStateConflictException>(() => Client.CancelAsync(id));
    }

    [Fact]
    public async Task Cancel_Running_CancelsToken_EndsCancelled()
    {
        var id = (await Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("cancel-me-" + Guid.NewGuid())))).JobId;
        await Node.WaitForStatusAsync(id, JobStatus.Running);
        await Client.CancelAsync(id);
        var info = await Client.GetAsync(id);
        Assert.Equal(JobStatus.Cancelled, info.Status);
        Assert.Equal(AttemptOutcome.Cancelled, info.Attempts[^1].Outcome);
        await WaitUntilAsync(() => Task.FromResult(true));
        Assert.DoesNotContain(Node.Log.Events, e => e.JobId == id && e.Event == "end");
    }

    [Fact]
    public async Task Reschedule_MovesWaitingJob_FinishedIsConflict()
    {
        var clock = Node.Clock!;
        var id = (await Client.ScheduleAsync(Echo("x") with { Delay = TimeSpan.FromHours(1) })).JobId;
        await Client.RescheduleAsync(id, clock.GetUtcNow() + TimeSpan.FromSeconds(30));
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(30), (await Client.GetAsync(id)).DueAt);
        clock.Advance(TimeSpan.FromSeconds(30));
        await Node.WaitForStatusAsync(id, JobStatus.Succeeded);
        var error = await Assert.ThrowsAsync<JobStateConflictException>(() => Client.RescheduleAsync(id, clock.GetUtcNow()));
        Assert.Equal(JobStatus.Succeeded, error.Status);
    }

    [Fact]
    public async Task Destroy_ThenLookups_NotFound_AndGoneFromLists()
    {
        var id = (await Client.ScheduleAsync(Echo("x") with { Delay = TimeSpan.FromHours(1) })).JobId;
        await Client.DestroyAsync(id);
        await Assert.ThrowsAsync<JobNotFoundException>(() => Client.GetAsync(id));
        await Assert.ThrowsAsync<JobNotFoundException>(() => Client.CancelAsync(id));
        var page = await Client.ListAsync(new JobQuery());
        Assert.DoesNotContain(page.Items, i => i.Id == id);
        await Assert.ThrowsAsync<JobNotFoundException>(() => Client.GetAsync("never-existed"));
    }

    [Fact]
    public async Task Validation_BadRequests_NameTheField_AndStoreNothing()
    {
        Assert.Equal(
            "kind",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(new ScheduleRequest { Kind = "nope" }))).Field
        );
        Assert.Equal(
            "queue",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(Echo("x") with { Queue = "missing" }))).Field
        );
        Assert.Equal("jobId", (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(Echo("x", "bad id/with slash")))).Field);
        Assert.Equal(
            "runAt",
            (
                await Assert.ThrowsAsync<JobValidationException>(() =>
                    Client.ScheduleAsync(Echo("x") with { RunAt = new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero) })
                )
            ).Field
        );
        Assert.Equal(
            "delay",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(Echo("x") with { Delay = TimeSpan.FromSeconds(-1) }))).Field
        );
        Assert.Equal(
            "maxAttempts",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(Echo("x") with { MaxAttempts = 0 }))).Field
        );
        Assert.Equal(
            "timeout",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(Echo("x") with { Timeout = TimeSpan.Zero }))).Field
        );
        var counts = await Client.CountAsync(new JobQuery());
        Assert.Equal(0, counts.Values.Sum());
    }

    [Fact]
    public async Task CountAndList_ByStatusKindQueue_PriorityOrder_Paging()
    {
        for (var i = 0; i < 5; i++)
        {
            await Client.ScheduleAsync(Echo($"p{i}", $"job-{i}") with { Priority = i, Delay = TimeSpan.FromHours(1) });
        }

        await Client.ScheduleAsync(Echo("slow", "slow-1") with { Queue = "slow", Delay = TimeSpan.FromHours(2) });
        var counts = await Client.CountAsync(new JobQuery());
        Assert.Equal(6, counts[JobStatus.Scheduled]);
        Assert.Equal(1, (await Client.CountAsync(new JobQuery { Queue = "slow" }))[JobStatus.Scheduled]);
        Assert.Equal(0, (await Client.CountAsync(new JobQuery { Kind = "fail" })).Values.Sum());

        var first = await Client.ListAsync(
            new JobQuery
            {
                Status = JobStatus.Scheduled,
                Queue = "default",
                Limit = 2,
            }
        );
        Assert.Equal(["job-4", "job-3"], first.Items.Select(i => i.Id));
        var second = await Client.ListAsync(
            new JobQuery
            {
                Status = JobStatus.Scheduled,
                Queue = "default",
                Limit = 2,
                Cursor = first.NextCursor,
            }
        );
        Assert.Equal(["job-2", "job-1"], second.Items.Select(i => i.Id));
        var third = await Client.ListAsync(
            new JobQuery
            {
                Status = JobStatus.Scheduled,
                Queue = "default",
                Limit = 2,
                Cursor = second.NextCursor,
            }
        );
        Assert.Equal(["job-0"], third.Items.Select(i => i.Id));
        Assert.Null(third.NextCursor);
        Assert.Equal("cursor", (await Assert.ThrowsAsync<JobValidationException>(() => Client.ListAsync(new JobQuery { Cursor = "%%%" }))).Field);
    }

    [Fact]
    public async Task ManyJobs_AllRunExactlyOnce()
    {
        var requests = Enumerable.Range(0, 300).Select(i => Echo($"m{i}", $"many-{i}")).ToList();
        var results = await Client.ScheduleManyAsync(requests);
        Assert.All(results, r => Assert.Null(r.Error));
        await WaitUntilAsync(async () => (await Client.CountAsync(new JobQuery()))[JobStatus.Succeeded] == 300, TimeSpan.FromSeconds(60));
        Assert.All(requests, r => Assert.Equal(1, Node.Log.Runs(r.JobId!)));

        // The index row commits with the event; the counter moves in the entity's persist callback just after.
        await WaitUntilAsync(() => Task.FromResult(Node.Node.Statistics!.Succeeded >= 300));
        Assert.Equal(300, Node.Node.Statistics!.Succeeded);
    }

    [Fact]
    public async Task ScheduleMany_PartialFailures_ReportedPerItem()
    {
        var results = await Client.ScheduleManyAsync([Echo("ok"), new ScheduleRequest { Kind = "unknown" }, Echo("ok2")]);
        Assert.NotNull(results[0].Result);
        Assert.Equal("invalid-request", results[1].Error!.ErrorCode);
        Assert.NotNull(results[2].Result);
    }

    [Fact]
    public async Task Retention_RemovesExactlyTheFinishedJobsPastTheirPeriod()
    {
        var clock = Node.Clock!;
        var succeeded = (await Client.ScheduleAsync(Echo("old", "ret-succeeded"))).JobId;
        var failed = (
            await Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(0, Permanent: true)) with { JobId = "ret-failed" })
        ).JobId;
        var cancelled = (await Client.ScheduleAsync(Echo("never", "ret-cancelled") with { Delay = TimeSpan.FromDays(30) })).JobId;
        await Node.WaitForStatusAsync(succeeded, JobStatus.Succeeded);
        await Node.WaitForStatusAsync(failed, JobStatus.Failed);
        await Client.CancelAsync(cancelled);
        var waiting = (await Client.ScheduleAsync(Echo("waits", "ret-waiting") with { Delay = TimeSpan.FromDays(30) })).JobId;

        clock.Advance(TimeSpan.FromHours(2));
        var newer = (await Client.ScheduleAsync(Echo("newer", "ret-newer"))).JobId;
        await Node.WaitForStatusAsync(newer, JobStatus.Succeeded);

        clock.Advance(TimeSpan.FromHours(21)); // 23 h: nothing is old enough
        await Task.Delay(300);
        Assert.Equal(5, (await Client.CountAsync(new JobQuery())).Values.Sum());

        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(2)); // past 24 h for the first succeeded and the cancelled job
        await WaitUntilAsync(async () => (await Client.CountAsync(new JobQuery())).Values.Sum() == 3);
        await Assert.ThrowsAsync<JobNotFoundException>(() => Client.GetAsync(succeeded));
        await Assert.ThrowsAsync<JobNotFoundException>(() => Client.GetAsync(cancelled));
        Assert.Equal(JobStatus.Failed, (await Client.GetAsync(failed)).Status); // failed jobs are kept 7 days
        Assert.Equal(JobStatus.Succeeded, (await Client.GetAsync(newer)).Status);
        Assert.Equal(JobStatus.Scheduled, (await Client.GetAsync(waiting)).Status);

        clock.Advance(TimeSpan.FromDays(7));
        await WaitUntilAsync(async () => (await Client.CountAsync(new JobQuery())).Values.Sum() == 1);
        await Assert.ThrowsAsync<JobNotFoundException>(() => Client.GetAsync(failed));
        await Assert.ThrowsAsync<JobNotFoundException>(() => Client.GetAsync(newer));
        Assert.Equal(waiting, Assert.Single((await Client.ListAsync(new JobQuery())).Items).Id);
    }

    private async Task<JobInfo> WaitForAttemptsAsync(string id, int ended, AttemptOutcome? outcome = null)
    {
        JobInfo info = null!;
        await WaitUntilAsync(async () =>
        {
            info = await Client.GetAsync(id);
            return info.Status != JobStatus.Running
                && info.Attempts.Count(a => a.Outcome != AttemptOutcome.Running && (outcome is null || a.Outcome == outcome)) >= ended;
        });
        return info;
    }

    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met in time");
            }

            await Task.Delay(20);
        }
    }
}

public sealed class MemoryJobSystemSpec() : JobSystemSpec(Backend.Memory);

public sealed class SqliteJobSystemSpec() : JobSystemSpec(Backend.Sqlite);

public sealed class PostgresJobSystemSpec() : JobSystemSpec(Backend.Postgres);
