using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Jobs.Actors.Entities;
using Jobs.Actors.Handlers;
using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Actors.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Workers;

/// <summary>
/// Runs one attempt at a time. The handler runs on the thread pool (never inside the actor's turn), so the worker
/// still receives Cancel, timeout and shutdown signals while it runs; after a signal the handler gets
/// <see cref="JobsSettings.CancelGrace"/> to stop before the attempt is abandoned and recorded.
/// </summary>
internal sealed class Worker(JobsRuntime runtime, string queue, IActorRef pool) : JobsActor
{
    /// <inheritdoc />
    protected override JobsRuntime Runtime => runtime;

    private static readonly object GraceKey = new();
    private Running? _current;
    private long _sequence;

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case Execute execute:
                Start(execute);
                return true;
            case CancelAttempt cancel
                when _current is { } running && running.Execute.JobId == cancel.JobId && running.Execute.Attempt == cancel.Attempt:
                Signal(running, StopReason.Cancelled);
                return true;
            case InterruptAttempt when _current is { } running:
                Signal(running, StopReason.Interrupted);
                return true;
            case TimeoutFired fired when _current is { } running && running.Key == fired.Key:
                Signal(running, StopReason.TimedOut);
                return true;
            case GraceExpired expired when _current is { } running && running.Key == expired.Key:
                // The handler ignored its token: abandon the attempt (its task may still finish; the result is dropped).
                Finish(
                    running,
                    running.Reason switch
                    {
                        StopReason.TimedOut => new AttemptReport.TimedOut(
                            $"the handler did not stop within {runtime.Settings.CancelGrace} after its {running.Execute.Timeout} timeout"
                        ),
                        StopReason.Interrupted => new AttemptReport.Interrupted("the node shut down; the handler did not stop in time"),
                        _ => null,
                    }
                );
                return true;
            case HandlerFinished finished when _current is { } running && running.Key == finished.Key:
                Finish(running, Report(running, finished));
                return true;
            case CancelAttempt or InterruptAttempt or TimeoutFired or GraceExpired or HandlerFinished:
                return true; // for an attempt that is no longer current
            default:
                return false;
        }
    }

    protected override void PreRestart(Exception reason, object? message)
    {
        // The worker itself crashed (not a handler): its attempt is lost; the pool gets the slot back.
        if (_current is { } running)
        {
            runtime.Region.Tell(
                new AttemptCompleted(
                    running.Execute.JobId,
                    running.Execute.Attempt,
                    running.Execute.Incarnation,
                    new AttemptReport.Lost($"worker crashed: {reason.Message}")
                ),
                Self
            );
            running.Dispose();
            pool.Tell(new WorkerIdle(Self), Self);
        }

        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        // Stopped with an attempt running (its pool restarted, or the system stopped): stop the handler too.
        _current?.Cancel.Cancel();
        _current?.Dispose();
        _current = null;
    }

    private void Start(Execute execute)
    {
        if (_current is not null)
        {
            runtime.Region.Tell(
                new AttemptCompleted(execute.JobId, execute.Attempt, execute.Incarnation, new AttemptReport.Interrupted("worker was busy")),
                Self
            );
            return;
        }

        var key = ++_sequence;
        var cancel = new CancellationTokenSource();
        var timeout = new CancellationTokenSource(execute.Timeout, runtime.Clock);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token, timeout.Token);
        var running = new Running(key, execute, cancel, timeout, linked);
        _current = running;
        var self = Self;
        running.TimeoutRegistration = timeout.Token.Register(() => self.Tell(new TimeoutFired(key), self));
        var context = new JobContext(
            execute.JobId,
            execute.Kind,
            execute.Attempt,
            execute.DueAt,
            runtime.Clock.GetUtcNow(),
            runtime.Settings.NodeName,
            linked.Token
        );
        _ = Task.Run(() => InvokeAsync(execute, context))
            .ContinueWith(
                t => self.Tell(new HandlerFinished(key, t.IsCompletedSuccessfully ? t.Result : null, t.Exception?.GetBaseException()), self),
                TaskScheduler.Default
            );
    }

    private async Task<JobOutcome> InvokeAsync(Execute execute, JobContext context)
    {
        if (!runtime.Handlers.TryGet(execute.Kind, out var registration))
        {
            return JobOutcome.Fail($"no handler for kind '{execute.Kind}' is registered on node '{runtime.Settings.NodeName}'");
        }

        if (runtime.PauseGuard is { } guard && !await guard.InGoodStandingAsync(StandingWait).ConfigureAwait(false))
        {
            throw new NotInGoodStandingException();
        }

        using var activity = JobsTelemetry.StartAttempt(execute.Kind, execute.TraceParent);
        activity?.SetTag("job.id", execute.JobId);
        activity?.SetTag("job.kind", execute.Kind);
        activity?.SetTag("job.queue", queue);
        activity?.SetTag("job.attempt", execute.Attempt);
        await using var scope = runtime.Services.CreateAsyncScope();
        try
        {
            var outcome = await registration.Invoke(scope.ServiceProvider, execute.Payload, context).ConfigureAwait(false);
            activity?.SetTag("job.outcome", outcome?.GetType().Name);
            return outcome!;
        }
        catch (JsonException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "payload does not match");
            return JobOutcome.Fail($"the payload does not match {registration.PayloadType.Name}: {ex.Message}");
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    private AttemptReport? Report(Running running, HandlerFinished finished) =>
        running.Reason switch
        {
            // A signalled attempt ends as what the signal said, whatever the handler returned.
            StopReason.TimedOut => new AttemptReport.TimedOut($"the attempt exceeded its {running.Execute.Timeout} timeout"),
            StopReason.Interrupted => new AttemptReport.Interrupted("the node shut down while the job ran"),
            StopReason.Cancelled => null,
            _ when finished.Error is NotInGoodStandingException => new AttemptReport.Interrupted(
                "this member stood still longer than the failure detector allows and no other member confirmed it since; the handler did not run"
            ),
            _ => finished.Error is { } error
                ? new AttemptReport.Threw($"{error.GetType().Name}: {error.Message}", error.StackTrace)
                : finished.Outcome switch
                {
                    JobOutcome.Succeeded s => new AttemptReport.Succeeded(s.Result?.GetRawText()),
                    JobOutcome.Retry r => new AttemptReport.RetryAt(r.At, r.Reason),
                    JobOutcome.FailedPermanently f => new AttemptReport.FailedPermanently(f.Reason),
                    JobOutcome.Snoozed z => new AttemptReport.Snoozed(z.Delay),
                    null => new AttemptReport.Threw("the handler returned no outcome", null),
                    _ => new AttemptReport.Threw($"unknown outcome {finished.Outcome.GetType().Name}", null),
                },
        };

    private void Signal(Running running, StopReason reason)
    {
        if (running.Reason != StopReason.None)
        {
            return;
        }

        running.Reason = reason;
        running.Cancel.Cancel();
        Timers.StartSingleTimer(GraceKey, new GraceExpired(running.Key), runtime.Settings.CancelGrace);
    }

    private void Finish(Running running, AttemptReport? report)
    {
        Timers.Cancel(GraceKey);
        _current = null;
        running.Dispose();
        AttemptCompleted? completed = null;
        if (report is not null)
        {
            completed = new AttemptCompleted(running.Execute.JobId, running.Execute.Attempt, running.Execute.Incarnation, report);
            runtime.Region.Tell(completed, Self);
        }

        pool.Tell(new WorkerIdle(Self, completed), Self); // the pool remembers the report a while, for an entity that moved
    }

    private enum StopReason
    {
        None,
        TimedOut,
        Cancelled,
        Interrupted,
    }

    private sealed class Running(
        long key,
        Execute execute,
        CancellationTokenSource cancel,
        CancellationTokenSource timeout,
        CancellationTokenSource linked
    ) : IDisposable
    {
        public long Key { get; } = key;

        public Execute Execute { get; } = execute;

        public CancellationTokenSource Cancel { get; } = cancel;

        public StopReason Reason { get; set; }

        public CancellationTokenRegistration TimeoutRegistration { get; set; }

        public void Dispose()
        {
            TimeoutRegistration.Dispose();
            linked.Dispose();
            timeout.Dispose();
            Cancel.Dispose();
        }
    }

    private sealed record TimeoutFired(long Key) : INoSerializationVerificationNeeded;

    private sealed record GraceExpired(long Key) : INoSerializationVerificationNeeded;

    /// <summary>How long an attempt waits for another member to confirm this one after a pause before it is handed back.</summary>
    private static readonly TimeSpan StandingWait = TimeSpan.FromSeconds(10);

    /// <summary>The handler was not invoked: this member stood still and was not confirmed since.</summary>
    private sealed class NotInGoodStandingException : Exception;

    private sealed record HandlerFinished(long Key, JobOutcome? Outcome, Exception? Error) : INoSerializationVerificationNeeded;

    /// <summary>The queue this worker serves (diagnostics).</summary>
    internal string Queue => queue;
}
