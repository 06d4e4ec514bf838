using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Client.Http;

/// <summary>The JSON conventions of the HTTP API, shared by the node and the client: web defaults, enums as camelCase strings.</summary>
public static class JobsWire
{
    /// <summary>Serializer options for API bodies (a shared, read-only instance).</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Adds the API's conventions to <paramref name="options"/> (used by the node's JSON setup).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>The body of POST /api/v1/jobs. Durations are in seconds so that any language can send them.</summary>
public sealed record ScheduleBody
{
    /// <summary>The job kind (a registered handler's name).</summary>
    public string? Kind { get; init; }

    /// <summary>The payload handed to the handler.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>A caller-chosen id: the same id again returns the existing job (safe retries).</summary>
    public string? JobId { get; init; }

    /// <summary>When to run (RFC 3339); with no delay either, now.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>Run after this many seconds instead.</summary>
    public double? DelaySeconds { get; init; }

    /// <summary>Higher runs first among due jobs.</summary>
    public int Priority { get; init; }

    /// <summary>The queue to run on.</summary>
    public string? Queue { get; init; }

    /// <summary>Attempts before the job fails (-1 unlimited).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Seconds one attempt may run.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>The body for <paramref name="request"/>.</summary>
    public static ScheduleBody From(ScheduleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ScheduleBody
        {
            Kind = request.Kind,
            Payload = request.Payload,
            JobId = request.JobId,
            RunAt = request.RunAt,
            DelaySeconds = request.Delay?.TotalSeconds,
            Priority = request.Priority,
            Queue = request.Queue,
            MaxAttempts = request.MaxAttempts,
            TimeoutSeconds = request.Timeout?.TotalSeconds,
        };
    }

    /// <summary>The request this body describes.</summary>
    /// <exception cref="JobValidationException">A required field is missing or a number is out of range.</exception>
    public ScheduleRequest ToRequest() => new()
    {
        Kind = Kind ?? throw new JobValidationException("kind", "is required"),
        Payload = Payload,
        JobId = JobId,
        RunAt = RunAt,
        Delay = DelaySeconds is { } d ? Seconds(d, "delaySeconds") : null,
        Priority = Priority,
        Queue = Queue,
        MaxAttempts = MaxAttempts,
        Timeout = TimeoutSeconds is { } t ? Seconds(t, "timeoutSeconds") : null,
    };

    private static TimeSpan Seconds(double value, string field) =>
        double.IsFinite(value) && Math.Abs(value) < TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromSeconds(value)
            : throw new JobValidationException(field, "must be a finite number of seconds within range");
}

/// <summary>The body of POST /api/v1/jobs/{id}/reschedule.</summary>
public sealed record RescheduleBody(DateTimeOffset RunAt);

/// <summary>One item of the answer to POST /api/v1/jobs/batch: the result, or that item's error.</summary>
public sealed record BatchItem(int Index, ScheduleResult? Result, ProblemBody? Error);

/// <summary>The node's identity and statistics (GET /api/v1/node).</summary>
public sealed record NodeInfo(string Node, DateTimeOffset StartedAt, long Scheduled, long Started, long Succeeded, long Failed, long Retried, long TimedOut, long Recovered, long Cancelled);

/// <summary>An RFC 9457 problem as the API sends it, with the API's extensions.</summary>
public sealed record ProblemBody
{
    /// <summary>A URI naming the kind of problem.</summary>
    public string? Type { get; init; }

    /// <summary>Short summary (the error code).</summary>
    public string? Title { get; init; }

    /// <summary>The HTTP status.</summary>
    public int? Status { get; init; }

    /// <summary>What went wrong, for people.</summary>
    public string? Detail { get; init; }

    /// <summary>The stable error code, for programs.</summary>
    public string? Code { get; init; }

    /// <summary>For invalid requests: the field at fault.</summary>
    public string? Field { get; init; }

    /// <summary>For conflicts: the job's status.</summary>
    public JobStatus? JobStatus { get; init; }

    /// <summary>For conflicts: the refused operation.</summary>
    public string? Operation { get; init; }

    /// <summary>For unknown jobs and conflicts: the job id.</summary>
    public string? JobId { get; init; }

    /// <summary>The problem for <paramref name="error"/>, with its HTTP status.</summary>
    public static ProblemBody From(JobsException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var body = new ProblemBody
        {
            Type = "https://jobs.dev/errors/" + error.ErrorCode,
            Title = error.ErrorCode,
            Status = StatusOf(error),
            Detail = error.Message,
            Code = error.ErrorCode,
        };
        return error switch
        {
            JobValidationException v => body with { Field = v.Field },
            JobNotFoundException n => body with { JobId = n.JobId },
            JobStateConflictException c => body with { JobId = c.JobId, JobStatus = c.Status, Operation = c.Operation },
            _ => body,
        };
    }

    /// <summary>The exception this problem stands for (the inverse of <see cref="From"/>).</summary>
    public JobsException ToException()
    {
        var code = Code ?? "http-" + (Status ?? 0);
        var detail = Detail ?? Title ?? code;
        return code switch
        {
            "invalid-request" or JobValidationException.TooLarge when Field is { } field =>
                new JobValidationException(field, detail.StartsWith(field + ": ", StringComparison.Ordinal) ? detail[(field.Length + 2)..] : detail, code),
            "job-not-found" when JobId is { } id => new JobNotFoundException(id),
            "job-state-conflict" when JobId is { } id && JobStatus is { } status => new JobStateConflictException(id, status, Operation ?? "change"),
            _ => new JobsException(code, detail),
        };
    }

    /// <summary>The HTTP status an error is answered with.</summary>
    public static int StatusOf(JobsException error) => error switch
    {
        JobValidationException { ErrorCode: JobValidationException.TooLarge } => 413,
        JobValidationException => 400,
        JobNotFoundException => 404,
        JobStateConflictException => 409,
        _ when error.ErrorCode is "timeout" or "storage-failure" or "unavailable" => 503,
        _ => 500,
    };
}
