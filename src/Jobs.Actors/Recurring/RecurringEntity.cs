using Akka.Actor;
using Akka.Persistence;
using Jobs.Actors.Entities;
using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Actors.Support;
using Jobs.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Recurring;

/// <summary>
/// One recurring schedule: a persistent actor that turns occurrences into jobs. An occurrence's job id is derived
/// from (schedule, occurrence time), and the job entity creates a job once per id, so an occurrence fired again
/// after a crash (job stored, OccurrenceFired not yet) still makes one job. The cursor (every occurrence up to it is
/// handled) is persisted with each decision; missed occurrences within the catch-up window fire, older ones are
/// recorded as missed. The scheduler wakes the entity through the recurring index when the next occurrence is due.
/// </summary>
internal sealed class RecurringEntity : JobsPersistentActor
{
    /// <inheritdoc />
    protected override JobsRuntime Runtime => _runtime;

    private static readonly object RetryKey = new();
    private static readonly object PollKey = new();
    private readonly JobsRuntime _runtime;
    private readonly string _name;
    private RecurringScheduleState _state = RecurringScheduleState.Empty;
    private IRecurrence? _recurrence;
    private bool _busy;
    private bool _reconcile = true;

    /// <summary>When the active jobs were last checked: a skip or deferral relies only on a check made once its occurrence was due.</summary>
    private DateTimeOffset? _activeCheckedAt;

    /// <summary>Jobs that ended before their OccurrenceFired was stored (a fast job): applied right after it is.</summary>
    private readonly Dictionary<string, bool> _earlyEnds = new(StringComparer.Ordinal);

    /// <summary>The lease of this entity's shard, when shards hold leases (a cluster on PostgreSQL).</summary>
    private readonly Persistence.Leases.DatabaseLease? _shardLease;

    public RecurringEntity(JobsRuntime runtime)
    {
        _runtime = runtime;
        _name = Uri.UnescapeDataString(Self.Path.Name); // the shard names its entities by their escaped names
        _shardLease = runtime.ShardLeases?.LeaseOf(TypeName, _name);
    }

    /// <summary>The name of the recurring schedules' sharding region (and part of their shards' lease names).</summary>
    public const string TypeName = "recurring";

    public override string PersistenceId => "recurring-" + _name;

    protected override Persistence.Journal.WriteFence? Fence => _shardLease?.Fence;

    private DateTimeOffset Now => _runtime.Clock.GetUtcNow();

    /// <summary>The job id of one occurrence: the same schedule and time always give the same id.</summary>
    public static string OccurrenceJobId(string name, DateTimeOffset occurrence) => $"rs:{name}:{occurrence.ToUnixTimeMilliseconds()}";

    protected override void PreStart() => SetIdleTimeout(_runtime.Settings.PassivateAfter);

    protected override bool Recover(object message)
    {
        switch (message)
        {
            case RecoveryCompleted:
                Rebuild();
                return true;
            case SnapshotOffer:
                return true;
            default:
                _state = _state.Apply(message);
                return true;
        }
    }

    protected override object? CreateAttachment(IReadOnlyList<object> events)
    {
        var next = events.Aggregate(_state, (s, e) => s.Apply(e));
        if (!next.Exists)
        {
            return new RecurringIndexRow(_name, string.Empty, string.Empty, null, 0, Deleted: true);
        }

        var recurrence = next.Definition == _state.Definition ? _recurrence : _runtime.NamedSchedules.Build(next.Definition!);
        var nextAt = recurrence is null || next.Paused ? null : next.NextOccurrence(recurrence);
        var state = recurrence is null ? "completed" : next.StateAt(recurrence).ToString().ToLowerInvariant();
        return new RecurringIndexRow(
            _name,
            next.Definition!.Kind,
            state,
            nextAt?.ToUnixTimeMilliseconds(),
            next.UpdatedAt.ToUnixTimeMilliseconds(),
            Deleted: false
        );
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Passivate(); // what arrives meanwhile is buffered by the shard for the next incarnation
        base.OnPersistFailure(cause, @event, sequenceNr);
        if (Sender is { } sender && !sender.Equals(Context.System.DeadLetters) && !sender.Equals(Self))
        {
            sender.Tell(
                new JobsFailed(
                    new JobsException("storage-failure", $"storing the change to recurring schedule '{_name}' failed: {cause.Message}", cause)
                ),
                Self
            );
        }
    }

    protected override bool Command(object message)
    {
        switch (message)
        {
            case SetRecurring set:
                OnSet(set.Definition);
                return true;
            case GetRecurring:
                Reply(_state.Exists ? Info() : NotFound());
                return true;
            case PauseRecurring:
                OnPause();
                return true;
            case ResumeRecurring:
                OnResume();
                return true;
            case DeleteRecurring:
                OnDelete();
                return true;
            case WakeRecurring:
                _reconcile = true;
                Evaluate();
                return true;
            case RecurringJobEnded jobEnded:
                if (_state.ActiveJobs.Contains(jobEnded.OccurrenceJobId))
                {
                    PersistIndexed(new OccurrenceEnded(jobEnded.OccurrenceJobId, jobEnded.Succeeded, Now), Applied);
                }
                else if (_busy && _earlyEnds.Count < 1000)
                {
                    _earlyEnds[jobEnded.OccurrenceJobId] = jobEnded.Succeeded;
                }

                return true;
            case FireCompleted fired:
                OnFireCompleted(fired);
                return true;
            case Reconciled reconciled:
                _busy = false;
                _activeCheckedAt = reconciled.At;
                var now = Now;
                var ended = reconciled
                    .Ended.Where(e => _state.ActiveJobs.Contains(e.JobId))
                    .Select(e => new OccurrenceEnded(e.JobId, e.Succeeded, now))
                    .ToList();
                if (ended.Count > 0)
                {
                    PersistAllIndexed(ended, Applied);
                }
                else
                {
                    Evaluate();
                }

                return true;
            case Retry:
                _reconcile = true;
                Evaluate();
                return true;
            case PassivateStop:
                // Stopped by its shard (it asked to, or the shard moves): everything it decided is stored, and the
                // scheduler wakes its next incarnation when the next occurrence is due.
                Context.Stop(Self);
                return true;
            case ReceiveTimeout:
                if (!_busy && _state.Deferred is null)
                {
                    Passivate();
                }

                return true;
            default:
                return false;
        }
    }

    private void OnSet(RecurringDefinition requested)
    {
        var now = Now;
        var definition = requested with
        {
            Anchor = requested.StartAt
                ?? (_state.Definition is { } old && old.EveryMs == requested.EveryMs && old.Cron == requested.Cron ? old.Anchor : now),
        };
        if (_state.Definition == definition)
        {
            Reply(Info());
            return;
        }

        var from = definition.StartAt is { } start && start > now ? start.AddTicks(-1) : now;
        if (_state.Exists && _state.Cursor > from)
        {
            from = _state.Cursor;
        }

        PersistIndexed(new RecurringDefined(definition, from, now), e =>
        {
            Applied(e);
            Reply(Info());
        });
    }

    private void OnPause()
    {
        if (!_state.Exists)
        {
            Reply(NotFound());
            return;
        }

        if (_state.Paused)
        {
            Reply(JobAck.Instance);
            return;
        }

        PersistIndexed(new RecurringPaused(Now), e =>
        {
            Applied(e);
            Reply(JobAck.Instance);
        });
    }

    private void OnResume()
    {
        if (!_state.Exists)
        {
            Reply(NotFound());
            return;
        }

        if (!_state.Paused)
        {
            Reply(JobAck.Instance);
            return;
        }

        var now = Now;
        PersistIndexed(new RecurringResumed(now, now), e =>
        {
            Applied(e);
            Reply(JobAck.Instance);
        });
    }

    private void OnDelete()
    {
        if (!_state.Exists)
        {
            Reply(NotFound());
            return;
        }

        PersistIndexed(new RecurringDeleted(Now), e =>
        {
            Applied(e);
            Reply(JobAck.Instance);
        });
    }

    /// <summary>After an event: update the state and the recurrence, then decide what comes next.</summary>
    private void Applied(object @event)
    {
        var before = _state.Definition;
        _state = _state.Apply(@event);
        if (_state.Definition != before)
        {
            Rebuild();
        }

        Evaluate();
    }

    private void Rebuild()
    {
        _recurrence = null;
        if (_state.Definition is { } d)
        {
            try
            {
                _recurrence = _runtime.NamedSchedules.Build(d);
                if (_recurrence is null)
                {
                    Log.LogWarning("Recurring schedule {Name} refers to named schedule {Named}, which this node does not have", _name, d.Named);
                }
            }
            catch (JobsException ex)
            {
                Log.LogWarning("Recurring schedule {Name} cannot be evaluated: {Error}", _name, ex.Message);
            }
        }
    }

    /// <summary>Takes the next step: re-check active jobs, fire or skip the next due occurrence, or arm for the next one.</summary>
    private void Evaluate()
    {
        if (_busy || !_state.Exists || _recurrence is null)
        {
            return;
        }

        if (_reconcile && _state.ActiveJobs.Count > 0)
        {
            Reconcile();
            return;
        }

        _reconcile = false;
        if (_state.Paused)
        {
            return;
        }

        var d = _state.Definition!;
        var now = Now;
        if (_state.Deferred is { } deferred)
        {
            if (_state.ActiveJobs.Count == 0)
            {
                Fire(deferred);
                return;
            }

            Timers.StartSingleTimer(PollKey, Retry.Instance, TimeSpan.FromSeconds(30));
        }

        var windowStart = now - TimeSpan.FromMilliseconds(d.CatchUpMs);
        var cursor = _state.Cursor;
        long missed = 0;
        while (true)
        {
            var next = (_state with { Cursor = cursor }).NextOccurrence(_recurrence);
            if (next is not { } occurrence || occurrence > now)
            {
                break;
            }

            if (occurrence < windowStart)
            {
                missed++;
                cursor = occurrence;
                if (missed < 100_000)
                {
                    continue;
                }

                break;
            }

            if (missed > 0)
            {
                break;
            }

            Decide(occurrence);
            return;
        }

        if (missed > 0)
        {
            Log.LogWarning(
                "Recurring schedule {Name} missed {Count} occurrences older than its catch-up window (the last at {Last})",
                _name,
                missed,
                cursor
            );
            PersistIndexed(new OccurrencesMissed(missed, cursor, now), Applied);
            return;
        }

        if (_state.NextOccurrence(_recurrence) is { } upcoming)
        {
            _runtime.Scheduler.Tell(new JobDue(string.Empty, upcoming), Self);
        }
    }

    private void Decide(DateTimeOffset occurrence)
    {
        if (_state.ActiveJobs.Count > 0 && !(_activeCheckedAt >= occurrence))
        {
            // What it knows of its running jobs may be stale (an end notification lost, or a job it adopted after a
            // crash, which never sends one): check them before skipping, deferring or limiting on their account.
            _reconcile = true;
            Evaluate();
            return;
        }

        var d = _state.Definition!;
        var now = Now;
        if (d.Limit is { } limit && _state.Successes + _state.ActiveJobs.Count >= limit)
        {
            PersistIndexed(
                new OccurrenceSkipped(
                    occurrence,
                    $"limit: {_state.ActiveJobs.Count} job(s) still running could reach the limit of {limit} successful runs",
                    now
                ),
                Applied
            );
            return;
        }

        if (_state.ActiveJobs.Count > 0)
        {
            switch (d.Overlap)
            {
                case OverlapPolicy.Skip:
                    PersistIndexed(new OccurrenceSkipped(occurrence, $"overlap: job {_state.ActiveJobs[^1]} is still active", now), Applied);
                    return;
                case OverlapPolicy.QueueOne when _state.Deferred is null:
                    PersistIndexed(new OccurrenceDeferred(occurrence, now), Applied);
                    return;
                case OverlapPolicy.QueueOne:
                    PersistIndexed(
                        new OccurrenceSkipped(occurrence, $"overlap: the occurrence of {_state.Deferred:O} is already waiting", now),
                        Applied
                    );
                    return;
            }
        }

        Fire(occurrence);
    }

    private void Fire(DateTimeOffset occurrence)
    {
        var d = _state.Definition!;
        var jobId = OccurrenceJobId(_name, occurrence);
        JobScheduled job;
        try
        {
            job = _runtime.Validator.Validate(
                new ScheduleRequest
                {
                    Kind = d.Kind,
                    JobId = jobId,
                    Payload = d.Payload is null ? null : System.Text.Json.JsonDocument.Parse(d.Payload).RootElement.Clone(),
                    RunAt = occurrence,
                    Priority = d.Priority,
                    Queue = d.Queue,
                    MaxAttempts = d.MaxAttempts,
                    Timeout = d.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
                }
            ) with
            {
                Recurring = _name,
            };
        }
        catch (JobValidationException ex)
        {
            PersistIndexed(new OccurrenceSkipped(occurrence, "the job could not be created: " + ex.Message, Now), Applied);
            return;
        }

        _busy = true;
        var self = Self;
        _runtime
            .Region.AskEntity<ScheduleResult>(new ScheduleJob(job), TimeSpan.FromSeconds(30))
            .ContinueWith(
                t =>
                    self.Tell(
                        new FireCompleted(
                            occurrence,
                            jobId,
                            t.IsCompletedSuccessfully && t.Result.AlreadyExisted,
                            t.IsCompletedSuccessfully ? null : t.Exception?.GetBaseException() ?? new TaskCanceledException()
                        ),
                        self
                    ),
                TaskScheduler.Default
            );
    }

    private void OnFireCompleted(FireCompleted fired)
    {
        _busy = false;
        if (!_state.Exists)
        {
            return;
        }

        if (fired.Error is { } error)
        {
            // Storage failed or timed out: the outcome is unknown, so fire the same occurrence (same job id) again later.
            Log.LogWarning(error, "Recurring schedule {Name} could not create the job of {Occurrence}; retrying", _name, fired.Occurrence);
            Timers.StartSingleTimer(RetryKey, Retry.Instance, TimeSpan.FromSeconds(2));
            return;
        }

        if (fired.AlreadyExisted)
        {
            // Made by an earlier try whose OccurrenceFired was not stored: it may have ended already.
            _reconcile = true;
        }

        PersistIndexed(new OccurrenceFired(fired.Occurrence, fired.JobId, Now), e =>
        {
            _state = _state.Apply(e);
            var endedEarly = _earlyEnds.Remove(e.JobId, out var succeeded);
            _earlyEnds.Clear();
            if (endedEarly)
            {
                PersistIndexed(new OccurrenceEnded(e.JobId, succeeded, Now), Applied);
                return;
            }

            Evaluate();
        });
    }

    private void Reconcile()
    {
        // A wake that comes while this runs asks for another check (the job may end meanwhile).
        _reconcile = false;
        _busy = true;
        var self = Self;
        var region = _runtime.Region;
        var jobs = _state.ActiveJobs.ToList();
        var startedAt = Now;
        _ = Task.Run(async () =>
        {
            var ended = new List<(string JobId, bool Succeeded)>();
            foreach (var jobId in jobs)
            {
                try
                {
                    var info = await region.AskEntity<JobInfo>(new GetJob(jobId), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                    if (info.Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled)
                    {
                        ended.Add((jobId, info.Status == JobStatus.Succeeded));
                    }
                }
                catch (JobNotFoundException)
                {
                    ended.Add((jobId, false));
                }
                catch (Exception)
                {
                    // Unknown for now: checked again at the next wake.
                }
            }

            self.Tell(new Reconciled(ended, startedAt), self);
        });
    }

    private RecurringScheduleInfo Info() =>
        _recurrence is null
            ? _state.ToInfo(new FunctionSchedule("missing", _ => null)) with
            {
                State = RecurringState.Completed,
            }
            : _state.ToInfo(_recurrence);

    /// <summary>Asks the shard to stop this entity; what arrives for it meanwhile waits for its next incarnation.</summary>
    private void Passivate() => Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(PassivateStop.Instance), Self);

    private void Reply(object message)
    {
        if (!Sender.Equals(Context.System.DeadLetters) && !Sender.Equals(Self))
        {
            Sender.Tell(message, Self);
        }
    }

    private JobsFailed NotFound() => new(new RecurringNotFoundException(_name));

    private sealed record FireCompleted(DateTimeOffset Occurrence, string JobId, bool AlreadyExisted, Exception? Error)
        : INoSerializationVerificationNeeded;

    private sealed record Reconciled(IReadOnlyList<(string JobId, bool Succeeded)> Ended, DateTimeOffset At) : INoSerializationVerificationNeeded;

    private sealed class Retry : INoSerializationVerificationNeeded
    {
        public static readonly Retry Instance = new();
    }
}
