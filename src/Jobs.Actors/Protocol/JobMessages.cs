using Akka.Actor;
using Jobs.Actors.Entities;
using Jobs.Actors.Serialization;
using Jobs.Client;
using Jobs.Persistence.Journal;

namespace Jobs.Actors.Protocol;

/// <summary>A message for one job or schedule entity; the shard region routes it by <see cref="JobId"/>.</summary>
internal interface IJobMessage : IWireMessage
{
    string JobId { get; }
}

/// <summary>Create the job (idempotent per id): replies a ScheduleResult after the event is durable.</summary>
internal sealed record ScheduleJob(JobScheduled Definition, UniqueConflict OnConflict = UniqueConflict.ReturnExisting) : IJobMessage
{
    public string JobId => Definition.Id;
}

/// <summary>
/// <see cref="ScheduleJob"/> as one item of a batch: the entity adds its event to <paramref name="Group"/>, which
/// commits the whole batch in one transaction. The group is an object of this process: the message never leaves it.
/// </summary>
internal sealed record ScheduleJobInBatch(ScheduleJob Schedule, JournalWriteGroup Group) : IJobMessage, INoSerializationVerificationNeeded
{
    public string JobId => Schedule.JobId;
}

/// <summary>Reply with the job's JobInfo, or a failure with JobNotFoundException.</summary>
internal sealed record GetJob(string JobId) : IJobMessage;

/// <summary>Cancel; replies <see cref="JobAck"/> (also to a repeat of the call that cancelled it: same <c>Request</c> token).</summary>
internal sealed record CancelJob(string JobId, long? IfRevision = null, string? Request = null) : IJobMessage;

/// <summary>Move a waiting job; replies <see cref="JobAck"/> (also to a repeat of the call that moved it: same <c>Request</c>).</summary>
internal sealed record RescheduleJob(string JobId, DateTimeOffset DueAt, long? IfRevision = null, string? Request = null) : IJobMessage;

/// <summary>Run a failed or cancelled job again; replies <see cref="JobAck"/> (also to a repeat of that call: same <c>Request</c>).</summary>
internal sealed record RetryJob(string JobId, string? Request = null) : IJobMessage;

/// <summary>Delete the job and its history; replies <see cref="JobAck"/>.</summary>
internal sealed record DestroyJob(string JobId, long? IfRevision = null) : IJobMessage;

/// <summary>
/// From the scheduler: the job is due (or may have a stale attempt); try to run it, asking the pool of the member at
/// <paramref name="Pool"/> (the scheduler chose it for its free slots; null: this node's own pool).
/// </summary>
internal sealed record WakeJob(string JobId, string? Pool = null) : IJobMessage;

/// <summary>From a worker: how an attempt ended. Rejected unless it matches the current attempt and incarnation.</summary>
internal sealed record AttemptCompleted(string JobId, int Attempt, string Incarnation, AttemptReport Report) : IJobMessage;

/// <summary>The reply to commands that return nothing.</summary>
internal sealed class JobAck : IWireMessage
{
    public static readonly JobAck Instance = new();
}

/// <summary>
/// From a pool: the job has a slot. With <paramref name="WorkerReserved"/>, an idle worker waits for it, so the entity
/// stores the attempt's start now and sends the started <see cref="Execute"/>; otherwise the slot is a reservation
/// (prefetch): the entity sends an unstarted Execute and stores the start only when the pool says a worker is free
/// (<see cref="BeginAttempt"/>), so that a job waiting in prefetch is neither Running nor counted if the node dies.
/// The pool's node name and incarnation say where the attempt runs (recorded with its start).
/// </summary>
internal sealed record Admitted(string JobId, bool WorkerReserved = false, string? Node = null, string? Incarnation = null) : IWireMessage;

/// <summary>From a pool, through the region: a worker is reserved for the job's prepared attempt: store its start and send it.</summary>
internal sealed record BeginAttempt(string JobId, int Attempt) : IJobMessage;

/// <summary>From a pool, through the region: the job's prepared attempt will not run there (shutdown, pool restart); nothing was started.</summary>
internal sealed record AttemptNotStarted(string JobId, int Attempt, string Reason) : IJobMessage;

/// <summary>From a pool: no worker is free (or the pool stopped admitting).</summary>
internal sealed record AdmissionRejected(string JobId) : IWireMessage;

/// <summary>
/// The stop message of job and schedule entities: sent by their shard, through the entity's mailbox (so messages
/// already queued are handled first, and a write in flight completes), when the entity asked to passivate or its
/// shard moves. The entity gives back any slot it holds and stops; what it waited for reaches its next incarnation.
/// </summary>
internal sealed class PassivateStop : INoSerializationVerificationNeeded
{
    public static readonly PassivateStop Instance = new();
}
