using System.Text.Json;
using Jobs.Actors.Recurring;
using Jobs.Client;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Actors.Tests;

/// <summary>Recurring schedules end to end on a manual clock, against every backend.</summary>
public abstract class RecurringSpec(Backend backend) : IAsyncLifetime
{
    private TestNode _node = null!;

    protected TestNode Node => _node;

    protected IJobsClient Client => _node.Client;

    protected DateTimeOffset Now => Node.Clock!.GetUtcNow();

    public async Task InitializeAsync() =>
        _node = await TestNode.StartAsync(backend, jobs: j => j.AddNamedSchedule("every-ninety-seconds", t => t.AddSeconds(90)));

    public async Task DisposeAsync() => await _node.DisposeAsync();

    protected static RecurringScheduleRequest Every(string name, string cron, string kind = "echo", object? payload = null) =>
        new()
        {
            Name = name,
            Kind = kind,
            Cron = cron,
            Payload = JsonSerializer.SerializeToElement(payload ?? new EchoPayload(name)),
            Timeout = TimeSpan.FromHours(1), // the clock moves minutes while handlers wait
        };

    protected static DateTimeOffset NextMinute(DateTimeOffset t) =>
        new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero).AddMinutes(1);

    protected static Task Eventually(Func<Task<bool>> condition, string what) => Eventually(condition, () => what);

    protected static async Task Eventually(Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("still not true after 20 s: " + what());
            }

            await Task.Delay(20);
        }
    }

    protected async Task<RecurringScheduleInfo> WaitFor(string name, Func<RecurringScheduleInfo, bool> condition, string what)
    {
        RecurringScheduleInfo info = null!;
        await Eventually(async () => condition(info = await Client.GetRecurringAsync(name)), () => $"{what} (last seen: {info})");
        return info;
    }

    /// <summary>Waits until the job exists (an occurrence creates it) and has <paramref name="status"/>.</summary>
    protected async Task<JobInfo> WaitJob(string jobId, JobStatus status)
    {
        JobInfo? info = null;
        await Eventually(
            async () =>
            {
                try
                {
                    info = await Client.GetAsync(jobId);
                    return info.Status == status;
                }
                catch (JobNotFoundException)
                {
                    return false;
                }
            },
            $"job {jobId} {status}"
        );
        return info!;
    }

    /// <summary>Moves the clock to just after <paramref name="at"/>.</summary>
    protected void AdvanceTo(DateTimeOffset at) => Node.Clock!.Advance(at - Now + TimeSpan.FromMilliseconds(10));

    [Fact]
    public async Task Cron_FiresOncePerOccurrence_WithPreviousAndNextVisible()
    {
        var first = NextMinute(Now);
        var info = await Client.SetRecurringAsync(Every("tick", "* * * * *"));
        Assert.Equal(RecurringState.Active, info.State);
        Assert.Equal(first, info.NextOccurrence);
        Assert.Null(info.PreviousOccurrence);

        for (var i = 0; i < 3; i++)
        {
            AdvanceTo(first.AddMinutes(i));
            await WaitJob(RecurringEntity.OccurrenceJobId("tick", first.AddMinutes(i)), JobStatus.Succeeded);
        }

        info = await WaitFor("tick", i => i.SuccessfulRuns == 3, "three successful runs");
        Assert.Equal(3, info.Fired);
        Assert.Equal(first.AddMinutes(2), info.PreviousOccurrence);
        Assert.Equal(RecurringEntity.OccurrenceJobId("tick", first.AddMinutes(2)), info.PreviousJobId);
        Assert.Equal(first.AddMinutes(3), info.NextOccurrence);
        Assert.False(info.Running);
        var jobs = await Client.ListAsync(new JobQuery { Kind = "echo" });
        Assert.Equal(3, jobs.Items.Count);
        Assert.All(jobs.Items, j => Assert.Equal(1, Node.Log.Runs(j.Id)));
    }

    [Fact]
    public async Task AnOccurrenceWhoseJobAlreadyExists_StillMakesOneJob()
    {
        // What a crash after the job was stored and before the schedule recorded it leaves behind.
        var first = NextMinute(Now);
        var id = RecurringEntity.OccurrenceJobId("crashy", first);
        await Client.SetRecurringAsync(Every("crashy", "* * * * *"));
        await Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("made before")) with { JobId = id, RunAt = first });
        AdvanceTo(first);
        var info = await WaitFor("crashy", i => i.Fired == 1, "the occurrence recorded");
        Assert.Equal(id, info.PreviousJobId);
        await WaitJob(id, JobStatus.Succeeded);

        // The schedule checks on the jobs it recorded at its next wake, and counts the run.
        AdvanceTo(first.AddMinutes(1));
        await WaitFor("crashy", i => i.Fired == 2 && i.SuccessfulRuns == 2, "both occurrences counted");
        Assert.Equal(1, Node.Log.Runs(id));
        Assert.Equal(2, (await Client.ListAsync(new JobQuery { Kind = "echo" })).Items.Count);
    }

    [Fact]
    public async Task OverlapSkip_SkipsWhileThePreviousRuns()
    {
        var first = NextMinute(Now);
        await Client.SetRecurringAsync(Every("slow", "* * * * *", "wait", new WaitPayload("slow-gate")));
        AdvanceTo(first);
        var firstJob = RecurringEntity.OccurrenceJobId("slow", first);
        await WaitJob(firstJob, JobStatus.Running);
        AdvanceTo(first.AddMinutes(1));
        var info = await WaitFor("slow", i => i.Skipped == 1, "the second occurrence skipped");
        Assert.Contains("overlap", info.LastSkipReason, StringComparison.Ordinal);
        Assert.True(info.Running);

        Node.Log.Gates.GetOrAdd("slow-gate", _ => new TaskCompletionSource()).TrySetResult();
        await WaitJob(firstJob, JobStatus.Succeeded);
        await WaitFor("slow", i => i.SuccessfulRuns == 1 && !i.Running, "the first run counted");
        AdvanceTo(first.AddMinutes(2));
        await WaitJob(RecurringEntity.OccurrenceJobId("slow", first.AddMinutes(2)), JobStatus.Succeeded);
        Assert.Equal(2, (await Client.GetRecurringAsync("slow")).Fired);
    }

    [Fact]
    public async Task OverlapQueueOne_RunsOneWaitingOccurrenceWhenThePreviousEnds()
    {
        var first = NextMinute(Now);
        await Client.SetRecurringAsync(
            Every("queued", "* * * * *", "wait", new WaitPayload("queued-gate")) with
            {
                Overlap = OverlapPolicy.QueueOne,
            }
        );
        AdvanceTo(first);
        await WaitJob(RecurringEntity.OccurrenceJobId("queued", first), JobStatus.Running);
        AdvanceTo(first.AddMinutes(1));
        var info = await WaitFor("queued", i => i.NextOccurrence == first.AddMinutes(1), "the second occurrence waiting");
        AdvanceTo(first.AddMinutes(2));
        info = await WaitFor("queued", i => i.Skipped == 1, "the third skipped: one already waits");
        Assert.Equal(1, info.Fired);

        Node.Log.Gates.GetOrAdd("queued-gate", _ => new TaskCompletionSource()).TrySetResult();
        // The waiting occurrence runs as soon as the first job ends (no clock move needed).
        var second = RecurringEntity.OccurrenceJobId("queued", first.AddMinutes(1));
        await WaitJob(second, JobStatus.Succeeded);
        info = await WaitFor("queued", i => i.SuccessfulRuns == 2, "both runs counted");
        Assert.Equal(2, info.Fired);
    }

    [Fact]
    public async Task OverlapAllow_RunsOccurrencesSideBySide()
    {
        var first = NextMinute(Now);
        await Client.SetRecurringAsync(
            Every("parallel", "* * * * *", "wait", new WaitPayload("parallel-gate")) with
            {
                Overlap = OverlapPolicy.Allow,
            }
        );
        AdvanceTo(first);
        AdvanceTo(first.AddMinutes(1));
        await WaitJob(RecurringEntity.OccurrenceJobId("parallel", first), JobStatus.Running);
        await WaitJob(RecurringEntity.OccurrenceJobId("parallel", first.AddMinutes(1)), JobStatus.Running);
        Node.Log.Gates.GetOrAdd("parallel-gate", _ => new TaskCompletionSource()).TrySetResult();
        await WaitFor("parallel", i => i.SuccessfulRuns == 2, "both runs counted");
    }

    [Fact]
    public async Task Limit_StopsAfterThatManySuccessfulRuns()
    {
        var first = NextMinute(Now);
        await Client.SetRecurringAsync(Every("twice", "* * * * *") with { Limit = 2 });
        AdvanceTo(first);
        await WaitFor("twice", i => i.SuccessfulRuns == 1, "first run");
        AdvanceTo(first.AddMinutes(1));
        var info = await WaitFor("twice", i => i.SuccessfulRuns == 2, "second run");
        Assert.Equal(RecurringState.Completed, info.State);
        Assert.Null(info.NextOccurrence);
        AdvanceTo(first.AddMinutes(5));
        await Task.Delay(200);
        Assert.Equal(2, (await Client.ListAsync(new JobQuery { Kind = "echo" })).Items.Count);
    }

    [Fact]
    public async Task PauseAndResume()
    {
        var first = NextMinute(Now);
        await Client.SetRecurringAsync(Every("pausable", "* * * * *"));
        await Client.PauseRecurringAsync("pausable");
        var info = await Client.GetRecurringAsync("pausable");
        Assert.Equal(RecurringState.Paused, info.State);
        Assert.Null(info.NextOccurrence);
        AdvanceTo(first.AddMinutes(3));
        await Task.Delay(200);
        Assert.Empty((await Client.ListAsync(new JobQuery { Kind = "echo" })).Items);

        await Client.ResumeRecurringAsync("pausable");
        info = await Client.GetRecurringAsync("pausable");
        Assert.Equal(RecurringState.Active, info.State);
        Assert.Equal(first.AddMinutes(4), info.NextOccurrence); // from now on: the paused ones do not run late
        AdvanceTo(first.AddMinutes(4));
        await WaitJob(RecurringEntity.OccurrenceJobId("pausable", first.AddMinutes(4)), JobStatus.Succeeded);
        Assert.Single((await Client.ListAsync(new JobQuery { Kind = "echo" })).Items);
    }

    [Fact]
    public async Task StartAndEnd_BoundTheOccurrences()
    {
        var first = NextMinute(Now);
        await Client.SetRecurringAsync(
            Every("window", "* * * * *") with
            {
                StartAt = first.AddMinutes(2),
                EndAt = first.AddMinutes(3),
                Overlap = OverlapPolicy.Allow,
            }
        );
        Assert.Equal(first.AddMinutes(2), (await Client.GetRecurringAsync("window")).NextOccurrence);
        for (var i = 0; i < 6; i++)
        {
            AdvanceTo(first.AddMinutes(i));
            await Task.Delay(50);
        }

        var info = await WaitFor("window", i => i.SuccessfulRuns == 2, "the two occurrences in the window");
        Assert.Equal(RecurringState.Completed, info.State);
        Assert.Equal(first.AddMinutes(3), info.PreviousOccurrence);
        Assert.Equal(2, (await Client.ListAsync(new JobQuery { Kind = "echo" })).Items.Count);
    }

    [Fact]
    public async Task IntervalsAndNamedSchedules()
    {
        var start = Now;
        var every = await Client.SetRecurringAsync(
            new RecurringScheduleRequest
            {
                Name = "every-30s",
                Kind = "echo",
                Every = TimeSpan.FromSeconds(30),
                Payload = JsonSerializer.SerializeToElement(new EchoPayload("i")),
            }
        );
        Assert.Equal(start + TimeSpan.FromSeconds(30), every.NextOccurrence);
        var named = await Client.SetRecurringAsync(
            new RecurringScheduleRequest
            {
                Name = "named",
                Kind = "echo",
                Named = "every-ninety-seconds",
                Payload = JsonSerializer.SerializeToElement(new EchoPayload("n")),
            }
        );
        Assert.Equal(start + TimeSpan.FromSeconds(90), named.NextOccurrence);
        for (var i = 1; i <= 3; i++)
        {
            AdvanceTo(start + TimeSpan.FromSeconds(30 * i));
            await WaitFor("every-30s", s => s.SuccessfulRuns == i, $"interval run {i}");
        }

        await WaitFor("named", i => i.SuccessfulRuns == 1, "one named run");
        Assert.Equal(2, (await Client.ListRecurringAsync()).Count);
    }

    [Fact]
    public async Task SettingAgain_ReplacesTheDefinition_KeepsHistory_AndDeleteStopsIt()
    {
        var first = NextMinute(Now);
        await Client.SetRecurringAsync(Every("changing", "* * * * *"));
        AdvanceTo(first);
        await WaitFor("changing", i => i.SuccessfulRuns == 1, "first run");
        var same = await Client.SetRecurringAsync(Every("changing", "* * * * *"));
        Assert.Equal(1, same.Fired);
        var changed = await Client.SetRecurringAsync(Every("changing", "0 */10 * * * *") with { TimeZone = "Europe/London" });
        Assert.Equal("0 */10 * * * *", changed.Cron);
        Assert.Equal("Europe/London", changed.TimeZone);
        Assert.Equal(1, changed.SuccessfulRuns);
        Assert.Equal(0, changed.NextOccurrence!.Value.Minute % 10);

        await Client.DeleteRecurringAsync("changing");
        await Assert.ThrowsAsync<RecurringNotFoundException>(() => Client.GetRecurringAsync("changing"));
        await Assert.ThrowsAsync<RecurringNotFoundException>(() => Client.PauseRecurringAsync("changing"));
        AdvanceTo(first.AddMinutes(30));
        await Task.Delay(200);
        Assert.Single((await Client.ListAsync(new JobQuery { Kind = "echo" })).Items);
        Assert.Empty(await Client.ListRecurringAsync());
    }

    [Theory]
    [InlineData("cron", "61 * * * *", null, null)]
    [InlineData("timeZone", "* * * * *", "Mars/Base", null)]
    [InlineData("cron", "@every 0s", null, null)]
    [InlineData("name", "* * * * *", null, "bad name!")]
    public async Task BadDefinitions_AreRejected_NothingStored(string field, string cron, string? zone, string? name)
    {
        var error = await Assert.ThrowsAsync<JobValidationException>(() =>
            Client.SetRecurringAsync(Every(name ?? "bad", cron) with { TimeZone = zone })
        );
        Assert.Equal(field, error.Field);
        Assert.Empty(await Client.ListRecurringAsync());
        Assert.Equal(
            "cron",
            (
                await Assert.ThrowsAsync<JobValidationException>(() =>
                    Client.SetRecurringAsync(Every("both", "* * * * *") with { Every = TimeSpan.FromMinutes(1) })
                )
            ).Field
        );
        Assert.Equal(
            "named",
            (
                await Assert.ThrowsAsync<JobValidationException>(() =>
                    Client.SetRecurringAsync(
                        new RecurringScheduleRequest
                        {
                            Name = "n",
                            Kind = "echo",
                            Named = "nope",
                        }
                    )
                )
            ).Field
        );
        Assert.Equal(
            "kind",
            (await Assert.ThrowsAsync<JobValidationException>(() => Client.SetRecurringAsync(Every("k", "* * * * *", "no-such-kind")))).Field
        );
        Assert.Empty(await Client.ListRecurringAsync());
    }
}

public sealed class MemoryRecurringSpec() : RecurringSpec(Backend.Memory);

public sealed class SqliteRecurringSpec() : RecurringSpec(Backend.Sqlite);

public sealed class PostgresRecurringSpec() : RecurringSpec(Backend.Postgres);

/// <summary>Occurrences across node restarts: each fires once; missed ones within the catch-up window run, older ones are recorded.</summary>
public abstract class RecurringRestartSpec(Backend backend)
{
    [Fact]
    public async Task Restart_FiresEachOccurrenceOnce_CatchesUpWithinTheWindow_RecordsOlderAsMissed()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-recurring-").FullName;
        var storage = await TestNode.StorageConfigAsync(backend, directory);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var log = new HandlerLog();
        var now = clock.GetUtcNow();
        var first = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        await using (var node = await TestNode.StartAsync(backend, storageConfig: storage, clock: clock, log: log))
        {
            await node.Client.SetRecurringAsync(
                new RecurringScheduleRequest
                {
                    Name = "minutely",
                    Kind = "echo",
                    Cron = "* * * * *",
                    Payload = JsonSerializer.SerializeToElement(new EchoPayload("m")),
                    CatchUpWindow = TimeSpan.FromMinutes(3),
                    Overlap = OverlapPolicy.Allow,
                }
            );
            clock.Advance(first - clock.GetUtcNow() + TimeSpan.FromMilliseconds(10));
            await node.WaitForStatusAsync(RecurringEntity.OccurrenceJobId("minutely", first), JobStatus.Succeeded);
        }

        // Down for ten minutes: +1..+7 are older than the window, +8, +9 and +10 are within it.
        clock.Advance(TimeSpan.FromMinutes(10));
        await using (var node = await TestNode.StartAsync(backend, storageConfig: storage, clock: clock, log: log))
        {
            RecurringScheduleInfo info = null!;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while ((info = await node.Client.GetRecurringAsync("minutely")).SuccessfulRuns < 4 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(4, info.SuccessfulRuns);
            Assert.Equal(4, info.Fired);
            Assert.Equal(7, info.Missed);
            Assert.Equal(first.AddMinutes(10), info.PreviousOccurrence);
            Assert.Equal(first.AddMinutes(11), info.NextOccurrence);
        }

        // Restarting again without time passing fires nothing more.
        await using (var node = await TestNode.StartAsync(backend, storageConfig: storage, clock: clock, log: log))
        {
            await Task.Delay(500);
            var info = await node.Client.GetRecurringAsync("minutely");
            Assert.Equal(4, info.Fired);
            var jobs = await node.Client.ListAsync(new JobQuery { Kind = "echo" });
            Assert.Equal(
                new[] { 0, 8, 9, 10 }.Select(m => RecurringEntity.OccurrenceJobId("minutely", first.AddMinutes(m))).Order(StringComparer.Ordinal),
                jobs.Items.Select(j => j.Id).Order(StringComparer.Ordinal)
            );
            Assert.All(jobs.Items, j => Assert.Equal(1, log.Runs(j.Id)));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}

public sealed class SqliteRecurringRestartSpec() : RecurringRestartSpec(Backend.Sqlite);

public sealed class PostgresRecurringRestartSpec() : RecurringRestartSpec(Backend.Postgres);

/// <summary>Named schedules and recurring schedules declared in HOCON.</summary>
public sealed class DeclaredRecurringTests
{
    [Fact]
    public async Task HoconDeclaredSchedules_ExistAtStart_AndFollowTheirZone()
    {
        await using var node = await TestNode.StartAsync(
            Backend.Memory,
            extraConfig: """
            jobs.named-schedules { nightly = "0 3 * * *" }
            jobs.recurring {
              report { kind = echo, named = nightly, time-zone = "Europe/London", payload = "{\"text\":\"r\"}", overlap = queue-one }
              cleanup { kind = echo, every = 15m, limit = 3, payload = "{\"text\":\"c\"}" }
            }
            """
        );
        var all = await node.Client.ListRecurringAsync();
        Assert.Equal(new[] { "cleanup", "report" }, all.Select(s => s.Name));
        var report = all[1];
        Assert.Equal("nightly", report.Named);
        Assert.Equal(OverlapPolicy.QueueOne, report.Overlap);
        var london = TimeZoneInfo.ConvertTime(report.NextOccurrence!.Value, RecurrenceParser.Zone("Europe/London"));
        Assert.Equal(3, london.Hour);
        Assert.Equal(0, london.Minute);
        Assert.Equal("r", report.Payload.GetProperty("text").GetString());
        Assert.Equal(TimeSpan.FromMinutes(15), all[0].Every);
        Assert.Equal(3, all[0].Limit);
    }

    [Theory]
    [InlineData("jobs.named-schedules { bad = \"99 * * * *\" }", "jobs.named-schedules.bad")]
    [InlineData("jobs.recurring { r { kind = echo, cron = \"* * * * *\", overlap = sometimes } }", "jobs.recurring.r.overlap")]
    [InlineData("jobs.recurring { r { kind = echo, cron = \"* * *\" } }", "jobs.recurring.r.cron")]
    [InlineData("jobs.recurring { r { kind = nope, cron = \"* * * * *\" } }", "jobs.recurring.r.kind")]
    public async Task BadDeclarations_StopTheNode_NamingTheKey(string config, string key)
    {
        var error = await Assert.ThrowsAsync<Jobs.Hocon.ConfigException>(() => TestNode.StartAsync(Backend.Memory, extraConfig: config));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }
}
