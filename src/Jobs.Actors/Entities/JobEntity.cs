using Akka.Actor;
using Akka.Cluster;
using Akka.Persistence;
using Jobs.Actors.Hosting;
using Jobs.Actors.Index;
using Jobs.Actors.Protocol;
using Jobs.Actors.Recurring;
using Jobs.Actors.Support;
using Jobs.Client;
using Jobs.Persistence.Journal;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Entities;

/// <summary>
/// One job: a persistent actor holding the job's state machine. Every transition is an event, and the job's
/// query-index row is written with it. It asks its queue's pool for a worker when due, records the attempt before
/// the handler runs, and decides after each attempt: done, retry at T, or failed. Reports from attempts that are
/// no longer current (another attempt, another incarnation) are ignored.
/// </summary>
internal sealed class JobEntity : JobsPersistentActor
{
    /// <inheritdoc />
    protected override JobsRuntime Runtime => _runtime;

    private static readonly object AdmissionTimeoutKey = new();

    /// <summary>The id of the Identify sent to the pool of another member running this job's attempt.</summary>
    private const string RemoteAttemptKey = "remote-attempt";
    private readonly JobsRuntime _runtime;
    private readonly string _jobId;
    private JobState _state = JobState.Empty;
    private bool _admissionPending;

    /// <summary>The attempt waiting in its pool's prefetch (not started, not stored), or null.</summary>
    private int? _preparedAttempt;
    private IActorRef? _worker;

    /// <summary>The pool of another member that runs this job's attempt (Nobody until it answers); null otherwise.</summary>
    private IActorRef? _remoteAttempt;

    /// <summary>The pool that admitted this job (on this or another member) while it holds a slot or runs; null otherwise.</summary>
    private IActorRef? _pool;

    /// <summary>The name and incarnation of that pool's node, recorded with the attempt's start.</summary>
    private string? _poolNode;
    private string? _poolIncarnation;

    /// <summary>
    /// A schedule call held (not stored yet) while the pool says whether a slot is free now: if one is, its first start
    /// is stored in the same write.
    /// </summary>
    private (JobScheduled Definition, IActorRef ReplyTo)? _scheduleAwaitingSlot;

    /// <summary>Who waits for a held schedule while it is being stored (told if the write fails).</summary>
    private IActorRef? _scheduleReplyTo;

    /// <summary>The lease of this entity's shard, when shards hold leases (a cluster on PostgreSQL).</summary>
    private readonly Persistence.Leases.DatabaseLease? _shardLease;

    public JobEntity(JobsRuntime runtime)
    {
        _runtime = runtime;
        _jobId = Uri.UnescapeDataString(Self.Path.Name); // the shard names its entities by their escaped ids
        _shardLease = runtime.ShardLeases?.LeaseOf(TypeName, _jobId);
    }

    /// <summary>The name of the job entities' sharding region (and part of their shards' lease names).</summary>
    public const string TypeName = "job";

    public override string PersistenceId => PersistenceIdOf(_jobId);

    protected override Persistence.Journal.WriteFence? Fence => _shardLease?.Fence;

    /// <summary>The journal stream of job <paramref name="jobId"/>.</summary>
    internal static string PersistenceIdOf(string jobId) => "job-" + jobId;

    private DateTimeOffset Now => _runtime.Clock.GetUtcNow();

    protected override void PreStart() => SetIdleTimeout(_runtime.Settings.PassivateAfter);

    /// <summary>A finished job, or one due later than the normal idle time, need not stay in memory: stop soon when idle.</summary>
    private void AdjustIdleTimeout()
    {
        var settings = _runtime.Settings;
        var waiting = _state.IsFinished || (_state.Phase == JobPhase.Pending && !HoldsSlot && _state.DueAt > Now + settings.PassivateAfter);
        SetIdleTimeout(waiting ? settings.PassivateWaitingAfter : settings.PassivateAfter);
    }

    protected override bool Recover(object message)
    {
        switch (message)
        {
            case RecoveryCompleted:
                if (_state.Phase == JobPhase.Running && _state.RunningIncarnation != _runtime.Incarnation)
                {
                    if (NodeIncarnation.LiveMember(Context.System, _state.RunningIncarnation) is { } node)
                    {
                        // Started on another member that is still in the cluster (this entity's shard moved here from
                        // it): the attempt goes on there and reports here through the region. Its pool is watched:
                        // if that node is removed from the cluster first, the attempt is lost.
                        WatchRemoteAttempt(node);
                    }
                    else
                    {
                        // The attempt was started by a process that is gone: it is lost.
                        Self.Tell(
                            new AttemptCompleted(
                                _jobId,
                                _state.CurrentAttempt,
                                _state.RunningIncarnation!,
                                new AttemptReport.Lost("the node running it stopped")
                            ),
                            Self
                        );
                    }
                }
                else if (_state.Phase == JobPhase.Running && _runtime.Pools.TryGetValue(_state.Definition!.Queue, out var pool))
                {
                    // Running here under an earlier incarnation of this entity (it was stopped by its shard, or the
                    // shard moved here): the pool still runs the attempt, forwards a cancel to its worker, and the
                    // report comes here. A report sent while the shard was elsewhere may have gone with that member:
                    // the pool is asked for it every few seconds until it comes.
                    _worker = pool;
                    Timers.StartPeriodicTimer(RemoteAttemptKey, CheckRemoteAttempt.Instance, TimeSpan.FromSeconds(2));
                }

                AdjustIdleTimeout();
                return true;
            case SnapshotOffer:
                return true;
            default:
                _state = _state.Apply(message);
                return true;
        }
    }

    protected override object? CreateAttachment(IReadOnlyList<object> events) =>
        IndexRowOf(_jobId, events.Aggregate(_state, (s, e) => s.Apply(e)), _runtime);

    /// <summary>The query-index row of job <paramref name="jobId"/> in <paramref name="state"/>, stored with the events that made it.</summary>
    internal static JobIndexRow IndexRowOf(string jobId, JobState state, JobsRuntime runtime)
    {
        if (state.Phase == JobPhase.Destroyed)
        {
            return new JobIndexRow(jobId, string.Empty, string.Empty, 0, string.Empty, 0, 0, 0, 0, null, null, 0, Deleted: true);
        }

        var d = state.Definition!;
        var last = state.Attempts.Count > 0 ? state.Attempts[^1] : null;
        return new JobIndexRow(
            jobId,
            d.Kind,
            d.Queue,
            d.Priority,
            state.Phase.ToString().ToLowerInvariant(),
            state.DueAt.ToUnixTimeMilliseconds(),
            d.CreatedAt.ToUnixTimeMilliseconds(),
            state.UpdatedAt.ToUnixTimeMilliseconds(),
            state.CountedAttempts,
            last?.Node,
            state.RunningIncarnation,
            runtime.ShardOf(jobId),
            Deleted: false
        );
    }

    protected override bool Command(object message)
    {
        if (_scheduleAwaitingSlot is { } awaiting)
        {
            return ReceiveAwaitingSlot(message, awaiting.Definition, awaiting.ReplyTo);
        }

        switch (message)
        {
            case ScheduleJob schedule:
                OnSchedule(schedule, null);
                return true;
            case ScheduleJobInBatch item:
                OnSchedule(item.Schedule, item.Group);
                return true;
            case GetJob:
                Reply(_state.Exists ? _state.ToInfo(Now) : NotFound());
                PassivateIfNoJob();
                return true;
            case CancelJob repeatedCancel when JobDecisions.IsRepeatOfLastCall(_state, repeatedCancel.Request):
            case RescheduleJob repeatedMove when JobDecisions.IsRepeatOfLastCall(_state, repeatedMove.Request):
            case RetryJob repeatedRetry when JobDecisions.IsRepeatOfLastCall(_state, repeatedRetry.Request):
                Reply(JobAck.Instance); // the call was sent again (its answer did not come): it is done already
                return true;
            case CancelJob cancel:
                if (PreconditionHolds(cancel.IfRevision))
                {
                    OnCancel(cancel.Request);
                }

                return true;
            case RescheduleJob reschedule:
                if (PreconditionHolds(reschedule.IfRevision))
                {
                    OnReschedule(reschedule);
                }

                return true;
            case RetryJob retry:
                OnRetry(retry.Request);
                return true;
            case DestroyJob destroy:
                if (PreconditionHolds(destroy.IfRevision))
                {
                    OnDestroy();
                }

                return true;
            case WakeJob wake:
                OnWake(wake.Pool);
                return true;
            case Admitted when _preparedAttempt is not null:
                // A second slot (a wake raced the first admission): give it back to the pool that offered it.
                _admissionPending = false;
                Timers.Cancel(AdmissionTimeoutKey);
                Sender.Tell(new ReleaseSlot(_jobId), Self);
                return true;
            case Admitted admitted:
                AdmittedBy(admitted);
                OnAdmitted(admitted.WorkerReserved);
                return true;
            case BeginAttempt begin:
                OnBeginAttempt(begin.Attempt);
                return true;
            case AttemptNotStarted notStarted:
                if (_preparedAttempt == notStarted.Attempt)
                {
                    // Nothing was stored for it: the job is simply pending again, and asks for a slot when it can.
                    _preparedAttempt = null;
                    Log.LogDebug("Attempt {Attempt} of job {JobId} did not start: {Reason}", notStarted.Attempt, _jobId, notStarted.Reason);
                    if (_state.Phase == JobPhase.Pending)
                    {
                        AfterPending();
                    }
                }

                return true;
            case AdmissionRejected:
                _admissionPending = false;
                _pool = null;
                Timers.Cancel(AdmissionTimeoutKey);
                return true;
            case AdmissionTimedOut:
                _admissionPending = false;
                _pool = null;
                return true;
            case AttemptCompleted completed:
                OnAttemptCompleted(completed);
                return true;
            case ActorIdentity identity when RemoteAttemptKey.Equals(identity.MessageId):
                OnRemotePool(identity.Subject);
                return true;
            case Terminated terminated when terminated.ActorRef.Equals(_remoteAttempt):
                if (_state.RunningIncarnation is { } running && NodeIncarnation.LiveMember(Context.System, running) is not null)
                {
                    // Its member is alive: Akka ends watches by address, and an earlier incarnation on the same address
                    // (a member restarted on its port) was just removed. The next check finds the pool again and
                    // watches it; a member that really went is found gone there.
                    _remoteAttempt = ActorRefs.Nobody;
                    return true;
                }

                OnRemotePool(null);
                return true;
            case Terminated terminated when terminated.ActorRef.Equals(_pool):
                // The member whose pool held this job's slot or prepared attempt is gone: nothing was started there.
                _preparedAttempt = null;
                _admissionPending = false;
                _pool = null;
                _poolNode = null;
                _poolIncarnation = null;
                if (_state.Phase == JobPhase.Pending)
                {
                    AfterPending();
                }

                return true;
            case Terminated:
                return true; // a pool watched earlier, no longer this job's
            case CheckRemoteAttempt:
                OnCheckRemoteAttempt();
                return true;
            case AttemptUnknown unknown:
                OnAttemptUnknown(unknown);
                return true;
            case DeleteMessagesSuccess or DeleteMessagesFailure:
                Passivate();
                return true;
            case PassivateStop:
                // The shard stops this entity (it asked to, or the shard moves): a held slot goes back to the pool
                // now; a running attempt reports to the next incarnation, which recovers it as running.
                Timers.Cancel(AdmissionTimeoutKey);
                DropPrepared();
                if (_admissionPending)
                {
                    TellPool(new ReleaseSlot(_jobId));
                }

                Context.Stop(Self);
                return true;
            case ReceiveTimeout:
                if (_state.Phase != JobPhase.Running && !HoldsSlot)
                {
                    Passivate();
                }

                return true;
            default:
                return false;
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // The entity stops now. Through the region, first: messages that come meanwhile are buffered for a fresh
        // incarnation instead of reaching the stopped one (told before the reply, so it precedes any follow-up).
        Passivate();
        base.OnPersistFailure(cause, @event, sequenceNr);
        if (_state.Phase != JobPhase.Running && (_pool is not null || HoldsSlot))
        {
            // A slot (or worker) held for an attempt whose start was not stored goes back to its pool now, not at the
            // pool's sweep of reservations that never started (30 s). A running attempt's slot is its worker's.
            _preparedAttempt = null;
            TellPool(new ReleaseSlot(_jobId));
        }
        if ((_scheduleReplyTo ?? Sender) is { } sender && !sender.Equals(Context.System.DeadLetters))
        {
            // The caller must not think the change happened: storage failed, the outcome is unknown.
            sender.Tell(
                new JobsFailed(new JobsException("storage-failure", $"storing the change to job '{_jobId}' failed: {cause.Message}", cause)),
                Self
            );
        }
    }

    private void OnSchedule(ScheduleJob schedule, JournalWriteGroup? group)
    {
        if (_state.Exists && JobDecisions.IsRepeatOfCreation(_state, schedule.Definition))
        {
            // The call that created this job sent its request again (its answer was lost, or its first message was
            // dropped in a hand-off and a repeat came second): that call created the job; nothing more is stored.
            group?.Skip();
            Reply(new ScheduleResult(_jobId, AlreadyExisted: false));
            return;
        }

        if (_state.Exists && !JobDecisions.UniqueKeyFree(_state, Now))
        {
            OnDuplicate(schedule, group);
            return;
        }

        if (group is null && TryAwaitSlot(schedule.Definition))
        {
            return;
        }

        var replyTo = Sender;
        PersistIndexed(
            schedule.Definition,
            e =>
            {
                OnScheduleStored(e);
                AfterPending(); // before the reply: its slot request precedes anything the caller does next (a resume)
                ReplyScheduled(replyTo);
            },
            group
        );
    }

    /// <summary>
    /// A job due now, scheduled alone: before storing it, ask the pool for a slot, so that when one is free the
    /// schedule and the attempt's start are one write (one commit between the call and the handler, not two). The
    /// pool answers at once; meanwhile other messages wait (stashed).
    /// </summary>
    private bool TryAwaitSlot(JobScheduled definition)
    {
        if (
            _admissionPending
            || !JobDecisions.CanStart(_state.Apply(definition), Now)
            || !_runtime.Pools.TryGetValue(definition.Queue, out var pool)
            || !_runtime.Handlers.TryGet(definition.Kind, out _)
            || IsCapped(definition.Kind)
        )
        {
            return false;
        }

        _scheduleAwaitingSlot = (definition, Sender);
        _admissionPending = true;
        Timers.StartSingleTimer(AdmissionTimeoutKey, AdmissionTimedOut.Instance, TimeSpan.FromSeconds(5));
        pool.Tell(new RequestAdmission(_jobId, definition.Kind, definition.Priority, definition.DueAt), Self);
        return true;
    }

    private bool ReceiveAwaitingSlot(object message, JobScheduled definition, IActorRef replyTo)
    {
        switch (message)
        {
            case Admitted admitted:
                AdmittedBy(admitted);
                EndAwaitingSlot(replyTo);
                PersistIndexed(definition, e =>
                {
                    OnScheduleStored(e);
                    ReplyScheduled(replyTo);
                    if (!admitted.WorkerReserved)
                    {
                        PrepareAttempt(_state.CurrentAttempt + 1); // once the schedule is stored
                    }
                });
                if (admitted.WorkerReserved)
                {
                    StartAttempt(_state.Apply(definition).CurrentAttempt + 1); // one write: the schedule and the start
                }

                return true;
            case AdmissionRejected or AdmissionTimedOut:
                EndAwaitingSlot(replyTo); // no slot now: store the schedule alone; the job waits for one as any due job does
                PersistIndexed(definition, e =>
                {
                    OnScheduleStored(e);
                    AfterPending();
                    ReplyScheduled(replyTo);
                });
                return true;
            default:
                Stash.Stash();
                return true;
        }
    }

    private void EndAwaitingSlot(IActorRef replyTo)
    {
        _scheduleReplyTo = replyTo;
        _scheduleAwaitingSlot = null;
        _admissionPending = false;
        Timers.Cancel(AdmissionTimeoutKey);
        Stash.UnstashAll(); // handled after the write below completes (commands wait while a write is in flight)
    }

    private void OnScheduleStored(JobScheduled e)
    {
        _scheduleReplyTo = null;
        _state = _state.Apply(e);
        _runtime.Statistics.OnScheduled(Now);
        _runtime.Metrics.OnScheduled(e.Kind, e.Queue);
        Publish("scheduled", _state);
    }

    private void ReplyScheduled(IActorRef replyTo)
    {
        if (!replyTo.Equals(Context.System.DeadLetters) && !replyTo.Equals(Self))
        {
            replyTo.Tell(new ScheduleResult(_jobId, AlreadyExisted: false), Self);
        }
    }

    /// <summary>A schedule call for a job that exists (same id or unique key): return it, reject, or replace it if it waits.</summary>
    private void OnDuplicate(ScheduleJob schedule, JournalWriteGroup? group)
    {
        var requested = schedule.Definition;
        if (schedule.OnConflict != UniqueConflict.Replace || _state.Phase != JobPhase.Pending || requested.Kind != _state.Definition!.Kind)
        {
            group?.Skip();
        }

        if (requested.Kind != _state.Definition!.Kind)
        {
            // The same id for another kind is a different job: answering "already existed" would report a job that
            // will never run the caller's handler as scheduled.
            Reply(new JobsFailed(new JobKindConflictException(_jobId, _state.Definition.Kind, requested.Kind)));
            return;
        }

        switch (schedule.OnConflict)
        {
            case UniqueConflict.Reject:
                Reply(new JobsFailed(new DuplicateJobException(_jobId, requested.UniqueKey)));
                return;
            case UniqueConflict.Replace when _state.Phase != JobPhase.Pending:
                Reply(Conflict("replace"));
                return;
            case UniqueConflict.Replace
                when _state.DueAt == requested.DueAt
                    && _state.Definition.Payload == requested.Payload
                    && _state.Definition.Priority == requested.Priority:
                // Nothing to change (a repeat of the replacing call, or the same content again): no write.
                group?.Skip();
                Reply(new ScheduleResult(_jobId, AlreadyExisted: true, Replaced: true));
                return;
            case UniqueConflict.Replace:
                PersistIndexed(
                    new JobReplaced(requested.Payload, requested.DueAt, requested.Priority, Now),
                    e =>
                    {
                        _state = _state.Apply(e);
                        Publish("replaced", _state);
                        AfterPending();
                        Reply(new ScheduleResult(_jobId, AlreadyExisted: true, Replaced: true));
                    },
                    group
                );
                return;
            default:
                Reply(new ScheduleResult(_jobId, AlreadyExisted: true));
                return;
        }
    }

    private void OnCancel(string? request)
    {
        if (!_state.Exists)
        {
            Reply(NotFound());
            return;
        }

        if (!JobDecisions.CanCancel(_state))
        {
            Reply(Conflict("cancel"));
            return;
        }

        var running = _state.Phase == JobPhase.Running ? _state.CurrentAttempt : (int?)null;
        var runningSince = running is null ? (DateTimeOffset?)null : _state.Attempts[^1].StartedAt;
        PersistIndexed(new JobCancelled(Now, request), e =>
        {
            _state = _state.Apply(e);
            Publish("cancelled", _state, running is null ? null : AttemptOutcome.Cancelled);
            _runtime.Statistics.OnCancelled(Now);
            if (runningSince is { } since)
            {
                _runtime.Metrics.OnEnded(_state.Definition!.Kind, _state.Definition.Queue, nameof(AttemptOutcome.Cancelled), e.At - since);
            }

            if (running is { } attempt && _worker is { } worker)
            {
                worker.Tell(new CancelAttempt(_jobId, attempt), Self);
            }

            _worker = null;
            DropPrepared();
            Reply(JobAck.Instance);
            _runtime.NotifyObservers(_state.ToInfo(Now), AttemptOutcome.Cancelled);
            NotifyRecurring(succeeded: false);
            AdjustIdleTimeout();
        });
    }

    private void OnReschedule(RescheduleJob reschedule)
    {
        if (!_state.Exists)
        {
            Reply(NotFound());
            return;
        }

        if (!JobDecisions.CanReschedule(_state))
        {
            Reply(Conflict("reschedule"));
            return;
        }

        PersistIndexed(new JobRescheduled(reschedule.DueAt, Now, reschedule.Request), e =>
        {
            _state = _state.Apply(e);
            Publish("rescheduled", _state);
            Reply(JobAck.Instance);
            DropPrepared(); // its slot was for the old time: ask again for the new one
            AfterPending();
        });
    }

    private void OnRetry(string? request)
    {
        if (!_state.Exists)
        {
            Reply(NotFound());
            return;
        }

        if (!JobDecisions.CanRetry(_state))
        {
            Reply(Conflict("retry"));
            return;
        }

        PersistIndexed(new JobRetried(Now, Now, request), e =>
        {
            _state = _state.Apply(e);
            Publish("retried", _state);
            Reply(JobAck.Instance);
            AfterPending();
        });
    }

    private void OnDestroy()
    {
        if (!_state.Exists)
        {
            Reply(NotFound());
            return;
        }

        if (_state.Phase == JobPhase.Running && _worker is { } worker)
        {
            worker.Tell(new CancelAttempt(_jobId, _state.CurrentAttempt), Self);
        }

        DropPrepared();

        var wasActive = !_state.IsFinished;
        PersistIndexed(new JobDestroyed(Now), e =>
        {
            if (wasActive)
            {
                NotifyRecurring(succeeded: false);
            }

            Publish("destroyed", _state);
            _state = _state.Apply(e);
            _worker = null;
            Reply(JobAck.Instance);
            DeleteMessages(LastSequenceNr);
        });
    }

    private void OnWake(string? poolNode)
    {
        if (_state.Phase == JobPhase.Running && _state.RunningIncarnation != _runtime.Incarnation && _remoteAttempt is not null)
        {
            DeclineWake(); // it runs on another member, watched: its report or that member's removal settles it
            return;
        }

        if (_state.Phase == JobPhase.Running && _state.RunningIncarnation != _runtime.Incarnation)
        {
            OnAttemptCompleted(
                new AttemptCompleted(_jobId, _state.CurrentAttempt, _state.RunningIncarnation!, new AttemptReport.Lost("the node running it stopped"))
            );
            DeclineWake();
            return;
        }

        if (!TryRun(poolNode, woken: true))
        {
            Log.LogDebug(
                "Job {JobId} declines a wake: {Phase}, due {DueAt:o}, admission pending {Pending}, attempt prepared {Prepared}",
                _jobId,
                _state.Phase,
                _state.DueAt,
                _admissionPending,
                _preparedAttempt is not null
            );
            DeclineWake(poolNode);
            PassivateIfNoJob();
            if (_state.Phase == JobPhase.Pending && !HoldsSlot && !JobDecisions.IsDue(_state.DueAt, Now))
            {
                // Woken before it is due (a clock moved back, a reschedule raced the wake): the scheduler must wake
                // it again in time, not after its longest sleep.
                _runtime.Scheduler.Tell(new JobDue(_state.Definition!.Queue, _state.DueAt, _jobId), Self);
            }
        }
    }

    /// <summary>Woken but not asking for a slot now: the pool (and through it the scheduler) stops counting on this job.</summary>
    private void DeclineWake(string? poolNode = null)
    {
        if (PoolAt(poolNode) is { } remote)
        {
            remote.Tell(new WakeDeclined(_jobId), Self);
        }
        else
        {
            TellPool(new WakeDeclined(_jobId));
        }
    }

    /// <summary>
    /// Tells the pool this job deals with: the one that admitted it (on any member) while it holds a slot or runs,
    /// otherwise this node's pool of its queue (when the job exists and this node runs that queue).
    /// </summary>
    private void TellPool(object message)
    {
        if (_pool is { } admittedBy)
        {
            admittedBy.Tell(message, Self);
        }
        else if (_state.Definition is { } definition && _runtime.Pools.TryGetValue(definition.Queue, out var pool))
        {
            pool.Tell(message, Self);
        }
    }

    /// <summary>The pool of this job's queue on the member at <paramref name="poolNode"/>, or null for this node's own.</summary>
    private ActorSelection? PoolAt(string? poolNode) =>
        poolNode is null || _state.Definition is null || poolNode == Cluster.Get(Context.System).SelfAddress.ToString()
            ? null
            : Context.ActorSelection(Workers.WorkerPool.PathOn(Address.Parse(poolNode), _state.Definition.Queue));

    /// <summary>A pool admitted this job: it is the pool to deal with until the slot is given back or the attempt ends.</summary>
    private void AdmittedBy(Admitted admitted)
    {
        _pool = Sender;
        _poolNode = admitted.Node;
        _poolIncarnation = admitted.Incarnation;
        if (admitted.Incarnation is { } incarnation && incarnation != _runtime.Incarnation)
        {
            // A pool on another member holds this job's slot (or soon its prepared attempt): if that member dies,
            // what it held is given up here.
            Context.Watch(Sender);
        }
    }

    /// <summary>
    /// Whether the member an attempt was lost with (<paramref name="lost"/>, an incarnation) is back: its address up
    /// again under a new incarnation (or the same incarnation still up and reachable: the member did not die, only its
    /// pool restarted), every member up and reachable, none joining or leaving. Until then a retry could
    /// kill a second member while the first is being replaced (a job that kills its process) and leave the cluster
    /// without a majority. A restarted member's join first has its old incarnation downed and removed, and only then
    /// is the new one let in: between the two the cluster looks whole but is one member short. A member that does not
    /// come back on its address (gone for good, or restarted elsewhere) looks the same, so its attempts wait the hold
    /// too (jobs.defaults.lost-retry-hold).
    /// </summary>
    private bool ClusterSettled(string lost)
    {
        var hash = lost.LastIndexOf('#');
        if (Context.System is not ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider } || hash < 0)
        {
            return true;
        }

        var address = lost[..hash];
        var state = Akka.Cluster.Cluster.Get(Context.System).State;
        var back = false;
        foreach (var member in state.Members)
        {
            if (member.Status != Akka.Cluster.MemberStatus.Up || state.Unreachable.Contains(member))
            {
                return false; // the lost incarnation's removal, or another member's join or leave, is still under way
            }

            back |= member.Address.ToString() == address;
        }

        return back;
    }

    /// <summary>The slot or attempt is over: the next admission may come from any pool.</summary>
    private void ForgetPool()
    {
        if (_pool is { } pool && _poolIncarnation is { } incarnation && incarnation != _runtime.Incarnation && !pool.Equals(_remoteAttempt))
        {
            Context.Unwatch(pool);
        }

        _pool = null;
        _poolNode = null;
        _poolIncarnation = null;
    }

    private bool HoldsSlot => _admissionPending || _preparedAttempt is not null;

    private void OnAdmitted(bool workerReserved)
    {
        _admissionPending = false;
        Timers.Cancel(AdmissionTimeoutKey);
        if (!JobDecisions.CanStart(_state, Now) || _preparedAttempt is not null)
        {
            PoolOf().Tell(new ReleaseSlot(_jobId), Self);
            if (_preparedAttempt is null)
            {
                ForgetPool();
            }

            return;
        }

        if (workerReserved)
        {
            StartAttempt(_state.CurrentAttempt + 1);
        }
        else
        {
            PrepareAttempt(_state.CurrentAttempt + 1);
        }
    }

    /// <summary>
    /// Hands the pool an unstarted attempt to hold until a worker frees (prefetch). Nothing is stored: the start is
    /// stored when the pool reserves a worker for it, right before the handler runs.
    /// </summary>
    private void PrepareAttempt(int attempt)
    {
        _preparedAttempt = attempt;
        PoolOf().Tell(ExecuteOf(attempt) with { Started = false }, Self);
    }

    /// <summary>A worker waits for the prepared attempt: store its start (durable before the handler runs), or give the worker back.</summary>
    private void OnBeginAttempt(int attempt)
    {
        if (_preparedAttempt != attempt || (_pool is { } admitting && !Sender.Path.Equals(admitting.Path)))
        {
            // Not the attempt this entity prepared in that pool: a pool still holding one prepared by an earlier
            // incarnation of this entity (its shard moved, or its member died) offers a worker. That pool gets its
            // worker back; what this entity holds (a running attempt, an attempt prepared elsewhere) is untouched:
            // a release sent to its own pool instead would free the slot of an attempt that runs there.
            Sender.Tell(new ReleaseSlot(_jobId), Self);
            if (_preparedAttempt is null && !HoldsSlot && _state.Phase == JobPhase.Pending)
            {
                AfterPending(); // a job that is due asks for a slot again
            }

            return;
        }

        if (!JobDecisions.CanStart(_state, Now))
        {
            // Prepared here, but no longer startable (cancelled, moved): give the worker back.
            _preparedAttempt = null;
            TellPool(new ReleaseSlot(_jobId));
            ForgetPool();
            return;
        }

        _preparedAttempt = null;
        StartAttempt(attempt);
    }

    /// <summary>Gives back the prefetch slot of a prepared attempt that will not run (cancelled, moved, destroyed).</summary>
    private void DropPrepared()
    {
        if (_preparedAttempt is null)
        {
            return;
        }

        _preparedAttempt = null;
        TellPool(new ReleaseSlot(_jobId));
        ForgetPool();
    }

    private Execute ExecuteOf(int attempt)
    {
        var d = _state.Definition!;
        return new Execute(
            _jobId,
            attempt,
            _poolIncarnation ?? _runtime.Incarnation,
            d.Kind,
            d.Payload,
            _state.DueAt,
            TimeSpan.FromMilliseconds(d.TimeoutMs),
            d.TraceParent,
            d.Priority
        );
    }

    /// <summary>Stores the start of <paramref name="attempt"/> (after any event persisted before in this turn), then hands it to the pool.</summary>
    private void StartAttempt(int attempt)
    {
        PersistIndexed(new AttemptStarted(attempt, _poolNode ?? _runtime.Settings.NodeName, _poolIncarnation ?? _runtime.Incarnation, Now), e =>
        {
            _state = _state.Apply(e);
            _worker = PoolOf(); // the pool runs it on a worker (or holds it until one frees) and forwards a cancel
            if (e.Incarnation != _runtime.Incarnation)
            {
                // It runs on another member: watched, so that the attempt is lost if that member is removed.
                _remoteAttempt = _worker;
                Context.Watch(_worker);
                Timers.StartPeriodicTimer(RemoteAttemptKey, CheckRemoteAttempt.Instance, TimeSpan.FromSeconds(2));
            }

            Publish("started", _state);
            _runtime.Statistics.OnStarted(e.StartedAt);
            var d = _state.Definition!;
            _runtime.Metrics.OnStarted(d.Kind, d.Queue, e.StartedAt - _state.DueAt);
            _worker.Tell(ExecuteOf(attempt), Self);
        });
    }

    private void OnAttemptCompleted(AttemptCompleted completed)
    {
        if (!JobDecisions.IsCurrent(_state, completed.Attempt, completed.Incarnation))
        {
            Log.LogDebug("Ignoring a late report for attempt {Attempt} of job {JobId}", completed.Attempt, _jobId);
            return;
        }

        if (_remoteAttempt is { } remote)
        {
            Context.Unwatch(remote);
            _remoteAttempt = null;
            Timers.Cancel(RemoteAttemptKey);
        }

        ForgetPool();

        var hold = completed.Report is AttemptReport.Lost && !ClusterSettled(completed.Incarnation) ? _runtime.Settings.LostRetryHold : TimeSpan.Zero;
        if (hold > TimeSpan.Zero)
        {
            Log.LogInformation(
                "Attempt {Attempt} of job {JobId} was lost with its member, which is not back in "
                    + "the cluster (or the cluster is not settled): its retry waits at least {Hold}",
                completed.Attempt,
                _jobId,
                hold
            );
        }

        var ended = JobDecisions.Decide(_state, completed.Report, Now, Random.Shared.NextDouble(), hold);
        PersistIndexed(ended, e =>
        {
            var startedAt = _state.Attempts[^1].StartedAt;
            _state = _state.Apply(e);
            Publish("attempt-ended", _state, e.Outcome);
            _runtime.Metrics.OnEnded(_state.Definition!.Kind, _state.Definition.Queue, e.Outcome.ToString(), e.EndedAt - startedAt);
            _worker = null;
            var now = Now;
            switch (e.Outcome)
            {
                case AttemptOutcome.TimedOut:
                    _runtime.Statistics.OnTimedOut(now);
                    break;
                case AttemptOutcome.Lost:
                    _runtime.Statistics.OnRecovered(now);
                    break;
            }

            if (e.RetryAt is not null)
            {
                if (e.Outcome is not (AttemptOutcome.Snoozed or AttemptOutcome.Interrupted))
                {
                    _runtime.Statistics.OnRetried(now);
                }

                AfterPending();
            }
            else if (e.Outcome == AttemptOutcome.Succeeded)
            {
                _runtime.Statistics.OnSucceeded(now);
                NotifyRecurring(succeeded: true);
                AdjustIdleTimeout();
            }
            else
            {
                _runtime.Statistics.OnFailed(now);
                NotifyRecurring(succeeded: false);
                AdjustIdleTimeout();
            }

            _runtime.NotifyObservers(_state.ToInfo(now), e.Outcome);
        });
    }

    /// <summary>A job of a recurring schedule ended: tell the schedule (it also re-checks on its own, so a lost message only delays it).</summary>
    private void NotifyRecurring(bool succeeded)
    {
        if (_state.Definition?.Recurring is { } name)
        {
            _runtime.Recurring.Tell(new RecurringJobEnded(name, _jobId, succeeded), Self);
        }
    }

    /// <summary>Tells watchers about a change, seen through <paramref name="state"/> (the state it left, for a destroy).</summary>
    private void Publish(string change, JobState state, AttemptOutcome? outcome = null)
    {
        if (!_runtime.Transitions.HasWatchers || state.Definition is not { } d)
        {
            return;
        }

        var now = Now;
        _runtime.Transitions.Publish(
            new JobTransition(d.Id, d.Kind, d.Queue, state.StatusAt(now), change, state.CurrentAttempt, outcome, state.DueAt, now)
        );
    }

    /// <summary>After the job became (or stayed) pending: run now if due, else make sure the scheduler wakes it in time.</summary>
    private void AfterPending()
    {
        if (JobDecisions.IsDue(_state.DueAt, Now))
        {
            TryRun();
        }
        else
        {
            _runtime.Scheduler.Tell(new JobDue(_state.Definition!.Queue, _state.DueAt, _jobId), Self);
        }

        AdjustIdleTimeout();
    }

    /// <summary>
    /// Asks a pool for a slot if the job can start now and has not asked already; true if it asked. The pool is the
    /// one on the member at <paramref name="poolNode"/> (chosen by the scheduler), or this node's own.
    /// </summary>
    private bool TryRun(string? poolNode = null, bool woken = false)
    {
        if (!JobDecisions.CanStart(_state, Now) || HoldsSlot)
        {
            return false;
        }

        var d = _state.Definition!;
        var remote = PoolAt(poolNode);
        IActorRef? local = null;
        if (
            remote is null
            && (!_runtime.Pools.TryGetValue(d.Queue, out local) || !_runtime.Handlers.TryGet(d.Kind, out _) || (!woken && IsCapped(d.Kind)))
        )
        {
            // This member does not run the job's queue or kind, or the kind has a cluster-wide cap (which only the
            // scheduler counts): the scheduler wakes it to a member that runs it, within the cap.
            _runtime.Scheduler.Tell(new JobDue(d.Queue, _state.DueAt, _jobId), Self);
            return false;
        }

        _admissionPending = true;
        ForgetPool();
        Timers.StartSingleTimer(AdmissionTimeoutKey, AdmissionTimedOut.Instance, TimeSpan.FromSeconds(5));
        var request = new RequestAdmission(_jobId, d.Kind, d.Priority, _state.DueAt);
        if (remote is not null)
        {
            remote.Tell(request, Self);
        }
        else
        {
            local!.Tell(request, Self);
        }

        return true;
    }

    /// <summary>Whether <paramref name="kind"/> has a concurrency cap: its jobs start only when the scheduler wakes them.</summary>
    private bool IsCapped(string kind) => _runtime.KindCaps.ContainsKey(kind);

    /// <summary>The pool this job deals with now: the one that admitted it, else this node's pool of its queue.</summary>
    private IActorRef PoolOf() => _pool ?? LocalPool();

    private IActorRef LocalPool() =>
        _runtime.Pools.TryGetValue(_state.Definition!.Queue, out var pool)
            ? pool
            : throw new InvalidOperationException($"queue '{_state.Definition.Queue}' of job '{_jobId}' is not configured on this node");

    private void Reply(object message)
    {
        if (!Sender.Equals(Context.System.DeadLetters) && !Sender.Equals(Self))
        {
            Sender.Tell(message, Self);
        }
    }

    private JobsFailed NotFound() => new(new JobNotFoundException(_jobId));

    /// <summary>
    /// An entity of an id without a job keeps nothing: it stops at once, so that a job stored later for the id
    /// without it (a batch of new jobs) is read by its next incarnation, not hidden by this one's empty state.
    /// </summary>
    private void PassivateIfNoJob()
    {
        if (!_state.Exists && !HoldsSlot && _scheduleAwaitingSlot is null)
        {
            Passivate();
        }
    }

    /// <summary>Asks the shard to stop this entity; what arrives for it meanwhile waits for its next incarnation.</summary>
    private void Passivate() => Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(PassivateStop.Instance), Self);

    /// <summary>A conditional command goes ahead only at the revision the caller saw; otherwise it is refused (412).</summary>
    private bool PreconditionHolds(long? ifRevision)
    {
        if (ifRevision is not { } expected || !_state.Exists || expected == _state.Revision)
        {
            return true;
        }

        Reply(new JobsFailed(new JobPreconditionFailedException(_jobId, expected, _state.Revision)));
        return false;
    }

    private JobsFailed Conflict(string operation) => new(new JobStateConflictException(_jobId, _state.StatusAt(Now), operation));

    /// <summary>
    /// Asks the pool of the member running this job's attempt to identify itself, to watch it, and checks again
    /// every few seconds: an answer lost with a dying member, or a removal seen before the watch, settles it too.
    /// </summary>
    private void WatchRemoteAttempt(Address node)
    {
        _remoteAttempt = ActorRefs.Nobody;
        Context.ActorSelection(Workers.WorkerPool.PathOn(node, _state.Definition!.Queue)).Tell(new Identify(RemoteAttemptKey), Self);
        Timers.StartPeriodicTimer(RemoteAttemptKey, CheckRemoteAttempt.Instance, TimeSpan.FromSeconds(2));
    }

    /// <summary>The periodic check of an attempt running on another member: lost once that member is no longer one.</summary>
    private void OnCheckRemoteAttempt()
    {
        var query = new QueryAttempt(_jobId, _state.CurrentAttempt, _state.RunningIncarnation ?? string.Empty);
        if (_state.Phase == JobPhase.Running && _state.RunningIncarnation == _runtime.Incarnation && _worker is { } local)
        {
            local.Tell(query, Self); // recovered here while this node's pool ran it: its report may have gone elsewhere
            return;
        }

        if (_remoteAttempt is null || _state.Phase != JobPhase.Running || _state.RunningIncarnation == _runtime.Incarnation)
        {
            Timers.Cancel(RemoteAttemptKey);
            return;
        }

        if (NodeIncarnation.LiveMember(Context.System, _state.RunningIncarnation) is not { } node)
        {
            OnRemotePool(null);
        }
        else if (_remoteAttempt.Equals(ActorRefs.Nobody))
        {
            Context.ActorSelection(Workers.WorkerPool.PathOn(node, _state.Definition!.Queue)).Tell(new Identify(RemoteAttemptKey), Self);
        }
        else
        {
            _remoteAttempt.Tell(query, Self); // it answers only once the attempt is over (its report, or that it is unknown)
        }
    }

    /// <summary>The pool that ran the current attempt has no record of it (it never ran there, or its end is forgotten): it is lost.</summary>
    private void OnAttemptUnknown(AttemptUnknown unknown)
    {
        if (_state.Phase == JobPhase.Running && JobDecisions.IsCurrent(_state, unknown.Attempt, unknown.Incarnation))
        {
            OnAttemptCompleted(
                new AttemptCompleted(
                    _jobId,
                    unknown.Attempt,
                    unknown.Incarnation,
                    new AttemptReport.Lost("the member that ran it has no record of it (its report was lost)")
                )
            );
        }
    }

    /// <summary>The remote pool answered (watched now), or it is gone: then the attempt it ran is lost.</summary>
    private void OnRemotePool(IActorRef? pool)
    {
        if (_state.Phase != JobPhase.Running || _state.RunningIncarnation == _runtime.Incarnation || _remoteAttempt is null)
        {
            return;
        }

        if (pool is not null && _remoteAttempt.Equals(ActorRefs.Nobody))
        {
            _remoteAttempt = pool;
            _worker = pool; // a cancel goes to that pool, which forwards it to the worker
            _pool = pool;
            Context.Watch(pool);
            return;
        }

        _remoteAttempt = null;
        _worker = null;
        Timers.Cancel(RemoteAttemptKey);
        OnAttemptCompleted(
            new AttemptCompleted(
                _jobId,
                _state.CurrentAttempt,
                _state.RunningIncarnation!,
                new AttemptReport.Lost("the node running it left the cluster")
            )
        );
    }

    private sealed class CheckRemoteAttempt : INoSerializationVerificationNeeded
    {
        public static readonly CheckRemoteAttempt Instance = new();
    }

    private sealed class AdmissionTimedOut : INoSerializationVerificationNeeded
    {
        public static readonly AdmissionTimedOut Instance = new();
    }
}
