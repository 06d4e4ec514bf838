using Akka.Actor;
using Jobs.Actors.Serialization;

namespace Jobs.Actors.Protocol;

/// <summary>From a job entity: ask a pool for a slot for this job; the pool answers the sender Admitted or AdmissionRejected.</summary>
internal sealed record RequestAdmission(string JobId, string Kind, int Priority, DateTimeOffset DueAt) : IWireMessage;

/// <summary>
/// From the scheduler: the jobs of one pass that this pool is to run, best first; an attempt of a later one waits (up
/// to the rank wait) for earlier ones to start. With <see cref="Wake"/>, the pool wakes their entities itself, through
/// its own member's shard region: one message per pass crosses the network instead of one per job, and an entity
/// that lives on the pool's member is woken without a remote hop.
/// </summary>
internal sealed record ExpectWoken(IReadOnlyList<string> JobIds, bool Wake = false) : IWireMessage;

/// <summary>From a woken entity that will not ask for a slot (nothing to run now): the pool stops holding later-woken attempts for it.</summary>
internal sealed record WakeDeclined(string JobId) : IWireMessage;

/// <summary>Give back an admitted slot that will not be used.</summary>
internal sealed record ReleaseSlot(string JobId) : IWireMessage;

/// <summary>From a worker to its pool: I am free again; <see cref="Report"/> is what it told the attempt's entity, if anything.</summary>
internal sealed record WorkerIdle(IActorRef Worker, AttemptCompleted? Report = null) : INoSerializationVerificationNeeded;

/// <summary>
/// From an entity whose attempt runs (or ran) in this pool, when its report may have been lost (the entity's shard
/// moved meanwhile): the pool answers with the attempt's report if it has finished and is still remembered, with
/// <see cref="AttemptUnknown"/> if the pool neither runs it nor remembers it, and not at all while it still runs.
/// </summary>
internal sealed record QueryAttempt(string JobId, int Attempt, string Incarnation) : IWireMessage;

/// <summary>The pool asked by <see cref="QueryAttempt"/> neither runs that attempt nor remembers its end: its outcome is lost.</summary>
internal sealed record AttemptUnknown(string JobId, int Attempt, string Incarnation) : IWireMessage;

/// <summary>Stop admitting new attempts (shutdown); running ones continue.</summary>
internal sealed class StopAdmitting : INoSerializationVerificationNeeded
{
    public static readonly StopAdmitting Instance = new();
}

/// <summary>Ask a pool for its counts; replies <see cref="PoolStatus"/>.</summary>
internal sealed class GetPoolStatus : IWireMessage
{
    public static readonly GetPoolStatus Instance = new();
}

/// <summary>
/// A pool's counts, every job holding one of its slots (admitted, started or running), the job kinds its member runs
/// (it admits no other), and how many of its slots each kind holds.
/// </summary>
internal sealed record PoolStatus(
    string Queue,
    int Workers,
    int Free,
    int Busy,
    bool Admitting,
    bool Paused = false,
    IReadOnlyCollection<string>? Admitted = null,
    IReadOnlyList<string>? Kinds = null,
    IReadOnlyDictionary<string, int>? Held = null
) : IWireMessage;

/// <summary>
/// Run one attempt of a job: sent by the entity to its pool, and by the pool to a worker. <see cref="Started"/> says
/// the attempt's start is durable; an unstarted one is a prefetch reservation that the pool turns into a start
/// (<see cref="BeginAttempt"/>) when a worker frees. A worker only ever gets started attempts.
/// </summary>
internal sealed record Execute(
    string JobId,
    int Attempt,
    string Incarnation,
    string Kind,
    string? Payload,
    DateTimeOffset DueAt,
    TimeSpan Timeout,
    string? TraceParent = null,
    int Priority = 0,
    bool Started = true
) : IWireMessage;

/// <summary>Cancel the running attempt (job cancelled or destroyed).</summary>
internal sealed record CancelAttempt(string JobId, int Attempt) : IWireMessage;

/// <summary>Cancel whatever runs now (shutdown deadline passed); it is reported as interrupted.</summary>
internal sealed class InterruptAttempt : INoSerializationVerificationNeeded
{
    public static readonly InterruptAttempt Instance = new();
}
