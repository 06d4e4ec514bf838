using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Jobs.Actors.Entities;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Persistence.Serialization;

namespace Jobs.Actors.Tests;

/// <summary>
/// The job state machine under any sequence of commands and attempt outcomes: a model driver applies each step the
/// way the entity does (through <see cref="JobDecisions"/>' guards and decisions) and checks the invariants after
/// every event, and that replaying the serialized events rebuilds the same state.
/// </summary>
public sealed class JobStateProperties
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private enum Step
    {
        AdvanceSecond,
        AdvanceHour,
        StartAttempt,
        Succeed,
        Throw,
        RetryAt,
        FailPermanently,
        Snooze,
        TimeOut,
        Lost,
        Interrupted,
        LateReport,
        OtherIncarnationReport,
        Cancel,
        Reschedule,
        Destroy,
    }

    [Fact]
    public void AnySequence_KeepsInvariants_AndReplaysToTheSameState()
    {
        // Cancel and Destroy end a job's story, so they are drawn rarely: most sequences reach many attempts.
        var weighted = Enum.GetValues<Step>()
            .SelectMany(s =>
                Enumerable.Repeat(
                    s,
                    s is Step.Cancel or Step.Destroy ? 1
                        : s is Step.StartAttempt ? 40
                        : 8
                )
            )
            .ToArray();
        var steps = Gen.Elements(weighted).ArrayOf();
        var limits = Gen.Choose(-1, 5).Where(n => n != 0);
        var timeoutRetries = Gen.Choose(0, 3);
        var cases = from s in steps from max in limits from t in timeoutRetries from jitter in Gen.Elements(0.0, 0.5) select (s, max, t, jitter);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), Prop.ForAll(cases.ToArbitrary(), c => Run(c.s, c.max, c.t, c.jitter)));
    }

    [Fact]
    public void Backoff_GrowsByFactor_StaysWithinBounds()
    {
        var cases =
            from failures in Gen.Choose(1, 80)
            from random in Gen.Choose(0, 1000).Select(i => i / 1000.0)
            from jitter in Gen.Elements(0.0, 0.1, 1.0)
            select (failures, random, jitter);
        Prop.ForAll(cases.ToArbitrary(), c =>
            {
                var d = Definition(3, 1) with { BackoffJitter = c.jitter };
                var delay = JobDecisions.Backoff(d, c.failures, c.random);
                var raw = Math.Min(d.BackoffMinMs * Math.Pow(d.BackoffFactor, c.failures - 1), d.BackoffMaxMs);
                Assert.InRange(delay.TotalMilliseconds, d.BackoffMinMs, d.BackoffMaxMs * (1 + c.jitter) + 1);
                Assert.Equal(raw * (1 + (c.random * c.jitter)), delay.TotalMilliseconds, 3);
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ALostAttempt_RetriesNoEarlierThanTheHold_WhileOtherReportsAndLongerBackoffsIgnoreIt()
    {
        // Running attempt 1; backoff 1 s for the first retry (the definition's min, no jitter).
        var running = JobState.Empty.Apply(Definition(3, 3)).Apply(new AttemptStarted(1, "node-a", "incarnation-a", Start));
        var hold = TimeSpan.FromSeconds(10);
        Assert.Equal(Start + hold, JobDecisions.Decide(running, new AttemptReport.Lost("member died"), Start, 0, hold).RetryAt);
        // settled: backoff alone
        Assert.Equal(Start + TimeSpan.FromSeconds(1), JobDecisions.Decide(running, new AttemptReport.Lost("member died"), Start, 0).RetryAt);
        // only lost attempts wait
        Assert.Equal(Start + TimeSpan.FromSeconds(1), JobDecisions.Decide(running, new AttemptReport.TimedOut("too slow"), Start, 0, hold).RetryAt);
        Assert.Equal(Start + TimeSpan.FromSeconds(1), JobDecisions.Decide(running, new AttemptReport.Threw("boom", null), Start, 0, hold).RetryAt);
        Assert.Equal(
            Start + TimeSpan.FromSeconds(1),
            JobDecisions.Decide(running, new AttemptReport.Lost("member died"), Start, 0, TimeSpan.FromMilliseconds(500)).RetryAt
        ); // a longer backoff wins
    }

    [Fact]
    public void LostRetryHold_DefaultsTo10s_AndABadValueNamesItsKey()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), JobsSettings.FromConfig(Jobs.Hocon.ConfigFactory.Load(null, string.Empty)).LostRetryHold);
        Assert.Equal(TimeSpan.Zero, JobsSettings.FromConfig(Jobs.Hocon.ConfigFactory.Load(null, "jobs.defaults.lost-retry-hold = 0s")).LostRetryHold);
        var error = Assert.Throws<Jobs.Hocon.ConfigException>(() =>
            JobsSettings.FromConfig(Jobs.Hocon.ConfigFactory.Load(null, "jobs.defaults.lost-retry-hold = 2h"))
        );
        Assert.Equal("jobs.defaults.lost-retry-hold", error.Path);
        Assert.Contains("zero to one hour", error.Message, StringComparison.Ordinal);
    }

    private static JobScheduled Definition(int maxAttempts, int maxTimeoutRetries) =>
        new("job-1", "echo", "default", 0, """{"text":"x"}""", Start, Start, maxAttempts, 30_000, maxTimeoutRetries, 1_000, 600_000, 2, 0);

    private static void Run(Step[] steps, int maxAttempts, int maxTimeoutRetries, double jitter)
    {
        var now = Start;
        var events = new List<object>();
        var state = JobState.Empty;
        var random = new Random(steps.Length);
        const string Here = "incarnation-a";

        void Emit(object e)
        {
            var before = state;
            state = state.Apply(e);
            events.Add(e);
            CheckInvariants(before, state, e, maxAttempts, maxTimeoutRetries, now);
        }

        Emit(Definition(maxAttempts, maxTimeoutRetries) with { BackoffJitter = jitter });
        foreach (var step in steps)
        {
            switch (step)
            {
                case Step.AdvanceSecond:
                    now += TimeSpan.FromSeconds(1);
                    break;
                case Step.AdvanceHour:
                    now += TimeSpan.FromHours(1);
                    break;
                case Step.StartAttempt:
                    // As the scheduler does: a waiting job starts once its time comes, so time moves to it.
                    if (state.Phase == JobPhase.Pending && state.DueAt > now)
                    {
                        now = state.DueAt;
                    }

                    if (JobDecisions.CanStart(state, now))
                    {
                        Emit(new AttemptStarted(state.CurrentAttempt + 1, "node-a", Here, now));
                    }

                    break;
                case Step.Cancel:
                    if (JobDecisions.CanCancel(state))
                    {
                        Emit(new JobCancelled(now));
                    }

                    break;
                case Step.Reschedule:
                    if (JobDecisions.CanReschedule(state))
                    {
                        Emit(new JobRescheduled(now + TimeSpan.FromMinutes(5), now));
                    }

                    break;
                case Step.Destroy:
                    if (state.Exists)
                    {
                        Emit(new JobDestroyed(now));
                    }

                    break;
                case Step.LateReport:
                    Assert.False(JobDecisions.IsCurrent(state, state.CurrentAttempt - 1, Here));
                    break;
                case Step.OtherIncarnationReport:
                    Assert.False(JobDecisions.IsCurrent(state, state.CurrentAttempt, "incarnation-b"));
                    break;
                default:
                    if (JobDecisions.IsCurrent(state, state.CurrentAttempt, Here))
                    {
                        Emit(JobDecisions.Decide(state, Report(step, now), now, random.NextDouble()));
                    }
                    else
                    {
                        Assert.NotEqual(JobPhase.Running, state.Phase);
                    }

                    break;
            }
        }

        // Recovery: the serialized events, read back by manifest, rebuild exactly this state.
        var serializer = JobsJsonContext.RegisterEvents(new EventSerializer());
        var replayed = events
            .Select(e => serializer.Serialize(e))
            .Select(p => serializer.Deserialize(p.Manifest, p.Payload))
            .Aggregate(JobState.Empty, (s, e) => s.Apply(e));
        Assert.Equal(Describe(state, now), Describe(replayed, now));
    }

    private static AttemptReport Report(Step step, DateTimeOffset now) =>
        step switch
        {
            Step.Succeed => new AttemptReport.Succeeded("""{"ok":true}"""),
            Step.Throw => new AttemptReport.Threw("boom", "at Handler()"),
            Step.RetryAt => new AttemptReport.RetryAt(now + TimeSpan.FromMinutes(1), "later"),
            Step.FailPermanently => new AttemptReport.FailedPermanently("bad"),
            Step.Snooze => new AttemptReport.Snoozed(TimeSpan.FromSeconds(30)),
            Step.TimeOut => new AttemptReport.TimedOut("too slow"),
            Step.Lost => new AttemptReport.Lost("node died"),
            _ => new AttemptReport.Interrupted("shutdown"),
        };

    private static void CheckInvariants(JobState before, JobState after, object e, int maxAttempts, int maxTimeoutRetries, DateTimeOffset now)
    {
        // Finished and destroyed are absorbing: only Destroy leaves a finished state.
        if (before.IsFinished)
        {
            Assert.IsType<JobDestroyed>(e);
        }

        if (after.Phase == JobPhase.Destroyed)
        {
            Assert.False(after.Exists);
            Assert.Null(after.Definition);
            return;
        }

        // Attempts are numbered 1..n; only the last can be running, and it runs exactly when the job does.
        Assert.Equal(Enumerable.Range(1, after.Attempts.Count), after.Attempts.Select(a => a.Number));
        Assert.All(after.Attempts.SkipLast(1), a => Assert.NotEqual(AttemptOutcome.Running, a.Outcome));
        var lastRunning = after.Attempts.Count > 0 && after.Attempts[^1].Outcome == AttemptOutcome.Running;
        Assert.Equal(after.Phase == JobPhase.Running, lastRunning);
        Assert.Equal(after.Phase == JobPhase.Running, after.RunningIncarnation is not null);
        Assert.All(after.Attempts.Where(a => a.Outcome != AttemptOutcome.Running), a => Assert.NotNull(a.EndedAt));

        // Counted attempts are successes and failures; they never exceed the limit.
        var counted = after.Attempts.Count(a => a.Outcome is AttemptOutcome.Succeeded or AttemptOutcome.Failed or AttemptOutcome.FailedPermanently);
        Assert.Equal(counted, after.CountedAttempts);
        if (maxAttempts > 0)
        {
            Assert.True(after.CountedAttempts <= maxAttempts, $"{after.CountedAttempts} counted attempts, limit {maxAttempts}");
        }

        // Timeouts and lost attempts are retried at most max-timeout-retries times.
        var timeoutLike = after.Attempts.Count(a => a.Outcome is AttemptOutcome.TimedOut or AttemptOutcome.Lost);
        Assert.Equal(timeoutLike, after.TimeoutRetriesUsed);
        Assert.True(timeoutLike <= maxTimeoutRetries + 1, $"{timeoutLike} timeouts, limit {maxTimeoutRetries} retries");

        // Success is final and stores the result; a finished job has a completion time.
        if (after.Phase == JobPhase.Succeeded)
        {
            Assert.Equal(AttemptOutcome.Succeeded, after.Attempts[^1].Outcome);
            Assert.Equal(1, after.Attempts.Count(a => a.Outcome == AttemptOutcome.Succeeded));
            Assert.NotNull(after.Result);
        }

        if (after.IsFinished)
        {
            Assert.NotNull(after.CompletedAt);
        }

        // A job that goes back to waiting after an attempt waits for a time not before the attempt ended.
        if (e is AttemptEnded { RetryAt: { } retryAt })
        {
            Assert.Equal(JobPhase.Pending, after.Phase);
            Assert.True(retryAt >= now, "retry scheduled in the past");
        }

        Assert.Equal(after.IsFinished || after.Phase == JobPhase.Running, !JobDecisions.CanReschedule(after));
        Assert.Equal(!after.IsFinished, JobDecisions.CanCancel(after));
    }

    private static string Describe(JobState state, DateTimeOffset now) =>
        state.Exists
            ? JsonSerializer.Serialize(state.ToInfo(now)) + $"|{state.TimeoutRetriesUsed}|{state.RunningIncarnation}"
            : state.Phase.ToString();
}
