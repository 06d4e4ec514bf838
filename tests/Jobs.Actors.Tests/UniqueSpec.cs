using Jobs.Actors.Protocol;
using Jobs.Client;

namespace Jobs.Actors.Tests;

/// <summary>Unique keys: one active job per (kind, key), enforced by the job entity, against every backend.</summary>
public abstract class UniqueSpec(Backend backend) : IAsyncLifetime
{
    private TestNode _node = null!;

    private IJobsClient Client => _node.Client;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(backend);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static ScheduleRequest Report(string text, string key = "daily-report") =>
        ScheduleRequest.Create("echo", new EchoPayload(text)) with
        {
            UniqueKey = key,
            Delay = TimeSpan.FromMinutes(5),
        };

    [Fact]
    public async Task ConcurrentScheduleCalls_ForOneKey_MakeExactlyOneJob()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => Client.ScheduleAsync(Report("try " + i)))));
        Assert.Single(results, r => !r.AlreadyExisted);
        Assert.Single(results.Select(r => r.JobId).Distinct());
        Assert.Equal("u:echo:daily-report", results[0].JobId);
        Assert.Single((await Client.ListAsync(new JobQuery { Kind = "echo" })).Items);
    }

    [Fact]
    public async Task Reject_FailsWithTheExistingId()
    {
        var first = await Client.ScheduleAsync(Report("one"));
        var error = await Assert.ThrowsAsync<DuplicateJobException>(() =>
            Client.ScheduleAsync(Report("two") with { OnConflict = UniqueConflict.Reject })
        );
        Assert.Equal(first.JobId, error.JobId);
        Assert.Equal("daily-report", error.UniqueKey);
        Assert.Equal("one", (await Client.GetAsync(first.JobId)).Payload.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Replace_UpdatesAWaitingJob_ButNotARunningOne()
    {
        var first = await Client.ScheduleAsync(Report("old"));
        var runAt = _node.Clock!.GetUtcNow().AddHours(1);
        var replaced = await Client.ScheduleAsync(
            Report("new") with
            {
                Delay = null,
                RunAt = runAt,
                Priority = 7,
                OnConflict = UniqueConflict.Replace,
            }
        );
        Assert.True(replaced.Replaced);
        Assert.True(replaced.AlreadyExisted);
        var info = await Client.GetAsync(first.JobId);
        Assert.Equal("new", info.Payload.GetProperty("text").GetString());
        Assert.Equal(runAt, info.DueAt);
        Assert.Equal(7, info.Priority);

        var running = await Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("unique-gate")) with { UniqueKey = "busy" });
        await _node.WaitForStatusAsync(running.JobId, JobStatus.Running);
        var conflict = await Assert.ThrowsAsync<JobStateConflictException>(() =>
            Client.ScheduleAsync(
                ScheduleRequest.Create("wait", new WaitPayload("other")) with
                {
                    UniqueKey = "busy",
                    OnConflict = UniqueConflict.Replace,
                }
            )
        );
        Assert.Equal("replace", conflict.Operation);
        _node.Log.Gates.GetOrAdd("unique-gate", _ => new TaskCompletionSource()).TrySetResult();
        await _node.WaitForStatusAsync(running.JobId, JobStatus.Succeeded);
    }

    [Fact]
    public async Task AScheduleCallSentAgain_IsAnsweredAsTheFirst_AndStoresNothingMore()
    {
        // A call whose message or answer was lost (a shard handed to another member drops what its region held) sends
        // the same request again: the entity knows it by the call's token and answers as it did the first time, even
        // where another call would be refused (reject) or would change the job (replace).
        var runtime = _node.Node.Runtime!;
        var definition = runtime.Validator.Validate(Report("one")) with { Request = "call-1" };
        var repeat = new ScheduleJob(definition, UniqueConflict.Reject);
        var first = await runtime.Region.AskEntity<ScheduleResult>(repeat, TimeSpan.FromSeconds(10));
        var again = await runtime.Region.AskEntity<ScheduleResult>(repeat, TimeSpan.FromSeconds(10));
        Assert.False(first.AlreadyExisted);
        Assert.Equal(first, again);
        Assert.Equal(1, (await Client.GetAsync(first.JobId)).Revision);

        // Another call with the same content and time is another call: refused, as before.
        await Assert.ThrowsAsync<DuplicateJobException>(() =>
            runtime.Region.AskEntity<ScheduleResult>(repeat with { Definition = definition with { Request = "call-2" } }, TimeSpan.FromSeconds(10))
        );

        // A replacing call sent again changes nothing the second time.
        var replace = Report("two") with { OnConflict = UniqueConflict.Replace };
        Assert.True((await Client.ScheduleAsync(replace)).Replaced);
        var revision = (await Client.GetAsync(first.JobId)).Revision;
        Assert.True((await Client.ScheduleAsync(replace)).Replaced);
        var info = await Client.GetAsync(first.JobId);
        Assert.Equal(revision, info.Revision);
        Assert.Equal("two", info.Payload.GetProperty("text").GetString());
        Assert.Single((await Client.ListAsync(new JobQuery { Kind = "echo" })).Items);
    }

    [Fact]
    public async Task AfterTheJobFinishes_TheKeyIsFree_UnlessWithinItsPeriod()
    {
        var now = ScheduleRequest.Create("echo", new EchoPayload("a")) with { UniqueKey = "k1" };
        var first = await Client.ScheduleAsync(now);
        await _node.WaitForStatusAsync(first.JobId, JobStatus.Succeeded);
        var again = await Client.ScheduleAsync(now with { Payload = ScheduleRequest.Create("echo", new EchoPayload("b")).Payload });
        Assert.False(again.AlreadyExisted);
        Assert.Equal(first.JobId, again.JobId);
        var info = await _node.WaitForStatusAsync(first.JobId, JobStatus.Succeeded);
        Assert.Equal("b", info.Payload.GetProperty("text").GetString());
        Assert.Equal(2, _node.Log.Runs(first.JobId));

        var withPeriod = ScheduleRequest.Create("echo", new EchoPayload("p")) with { UniqueKey = "k2", UniquePeriod = TimeSpan.FromHours(1) };
        var p1 = await Client.ScheduleAsync(withPeriod);
        await _node.WaitForStatusAsync(p1.JobId, JobStatus.Succeeded);
        Assert.True((await Client.ScheduleAsync(withPeriod)).AlreadyExisted);
        _node.Clock!.Advance(TimeSpan.FromMinutes(61));
        Assert.False((await Client.ScheduleAsync(withPeriod)).AlreadyExisted);
        await _node.WaitForStatusAsync(p1.JobId, JobStatus.Succeeded);
        Assert.Equal(2, _node.Log.Runs(p1.JobId));
    }

    [Fact]
    public async Task BadUniqueRequests_AreRejected()
    {
        Assert.Equal(
            "uniqueKey",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(Report("x") with { JobId = "mine" }))).Field
        );
        Assert.Equal(
            "uniquePeriod",
            (
                await Assert.ThrowsAsync<JobValidationException>(() =>
                    Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")) with { UniquePeriod = TimeSpan.FromHours(1) })
                )
            ).Field
        );
        Assert.Equal(
            "uniqueKey",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.ScheduleAsync(Report("x", new string('k', 201))))).Field
        );
        // A key that is not a valid id still works: the id is a hash of kind and key.
        var odd = await Client.ScheduleAsync(Report("x", "tenant 42 / invoice #7"));
        Assert.StartsWith("uh:", odd.JobId, StringComparison.Ordinal);
        Assert.True((await Client.ScheduleAsync(Report("y", "tenant 42 / invoice #7"))).AlreadyExisted);
        Assert.Single((await Client.ListAsync(new JobQuery { Kind = "echo" })).Items);
    }
}

public sealed class MemoryUniqueSpec() : UniqueSpec(Backend.Memory);

public sealed class SqliteUniqueSpec() : UniqueSpec(Backend.Sqlite);

public sealed class PostgresUniqueSpec() : UniqueSpec(Backend.Postgres);
