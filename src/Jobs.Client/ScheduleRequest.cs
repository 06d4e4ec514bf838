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

    /// <summary>A request with a payload serialized from <paramref name="payload"/>.</summary>
    public static ScheduleRequest Create<T>(string kind, T payload, JsonSerializerOptions? options = null) =>
        new() { Kind = kind, Payload = JsonSerializer.SerializeToElement(payload, options ?? JsonSerializerOptions.Web) };
}
