using System.Text.Json;

namespace Jobs.Client;

/// <summary>A request to run a job of <see cref="Kind"/> with <see cref="Payload"/>, now or later.</summary>
public sealed record ScheduleRequest
{
    /// <summary>The job kind: the stable name a handler is registered under.</summary>
    public required string Kind { get; init; }

    /// <summary>The payload handed to the handler (any JSON value). Default: null.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>A caller-chosen id: scheduling the same id again returns the existing job, so retries are safe. Default: generated.</summary>
    public string? JobId { get; init; }

    /// <summary>When to run; null with no <see cref="Delay"/> means now.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>Run after this delay (instead of <see cref="RunAt"/>).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Higher runs first among due jobs. Default: 0.</summary>
    public int Priority { get; init; }

    /// <summary>The queue (worker pool) to run on; null uses the kind's queue or "default".</summary>
    public string? Queue { get; init; }

    /// <summary>Attempts before the job fails; -1 for unlimited; null uses the kind's setting.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>How long one attempt may run before its token is cancelled; null uses the kind's setting.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// A uniqueness key: the job's id derives from (kind, key), so at most one job per key
    /// is active cluster-wide. Cannot be combined with <see cref="JobId"/>.
    /// </summary>
    public string? UniqueKey { get; init; }

    /// <summary>With <see cref="UniqueKey"/>: the key also stays taken for this long after the job finished. Default: only while active.</summary>
    public TimeSpan? UniquePeriod { get; init; }

    /// <summary>With <see cref="UniqueKey"/>: what happens when the key is taken. Default: return the existing job's id.</summary>
    public UniqueConflict OnConflict { get; init; } = UniqueConflict.ReturnExisting;

    /// <summary>A request with a payload serialized from <paramref name="payload"/>.</summary>
    public static ScheduleRequest Create<T>(string kind, T payload, JsonSerializerOptions? options = null) =>
        new() { Kind = kind, Payload = JsonSerializer.SerializeToElement(payload, options ?? JsonSerializerOptions.Web) };
}

/// <summary>What Schedule does when a job with the same unique key (or id) is still active or within its unique period.</summary>
public enum UniqueConflict
{
    /// <summary>Return the existing job's id with <see cref="ScheduleResult.AlreadyExisted"/> set. The default.</summary>
    ReturnExisting,

    /// <summary>Fail with <see cref="DuplicateJobException"/> (HTTP 409, code "duplicate-job").</summary>
    Reject,

    /// <summary>If the existing job has not started, give it this request's payload, time and priority; otherwise fail with a conflict.</summary>
    Replace,
}

/// <summary>A job with the same unique key is active (or finished within its unique period) and the request asked to be rejected.</summary>
public sealed class DuplicateJobException(string jobId, string? uniqueKey)
    : JobsException(
        "duplicate-job",
        uniqueKey is null ? $"job '{jobId}' already exists" : $"a job with unique key '{uniqueKey}' already exists: '{jobId}'"
    )
{
    /// <summary>The existing job's id.</summary>
    public string JobId { get; } = jobId;

    /// <summary>The key, when the conflict was on a unique key.</summary>
    public string? UniqueKey { get; } = uniqueKey;
}
