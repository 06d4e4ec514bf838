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
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
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

    /// <summary>A uniqueness key: the job id derives from (kind, key); at most one active job per key.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>Seconds the key stays taken after the job finished.</summary>
    public double? UniquePeriodSeconds { get; init; }

    /// <summary>When the key is taken: returnExisting (default), reject (409) or replace.</summary>
    public UniqueConflict? OnConflict { get; init; }

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
            UniqueKey = request.UniqueKey,
            UniquePeriodSeconds = request.UniquePeriod?.TotalSeconds,
            OnConflict = request.OnConflict == UniqueConflict.ReturnExisting ? null : request.OnConflict,
        };
    }

    /// <summary>The request this body describes.</summary>
    /// <exception cref="JobValidationException">A required field is missing or a number is out of range.</exception>
    public ScheduleRequest ToRequest() =>
        new()
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
            UniqueKey = UniqueKey,
            UniquePeriod = UniquePeriodSeconds is { } u ? Seconds(u, "uniquePeriodSeconds") : null,
            OnConflict = OnConflict ?? UniqueConflict.ReturnExisting,
        };

    internal static TimeSpan Seconds(double value, string field) =>
        double.IsFinite(value) && Math.Abs(value) < TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromSeconds(value)
            : throw new JobValidationException(field, "must be a finite number of seconds within range");
}

/// <summary>The body of PUT /api/v1/recurring/{name}: a recurring schedule (the name comes from the path). Durations in seconds.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RecurringBody
{
    /// <summary>The kind of job each occurrence creates.</summary>
    public string? Kind { get; init; }

    /// <summary>The payload of each job.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>A cron expression, a macro or "@every 10s".</summary>
    public string? Cron { get; init; }

    /// <summary>A fixed interval in seconds.</summary>
    public double? EverySeconds { get; init; }

    /// <summary>A named schedule.</summary>
    public string? Named { get; init; }

    /// <summary>The IANA time zone (default UTC).</summary>
    public string? TimeZone { get; init; }

    /// <summary>No occurrence before this.</summary>
    public DateTimeOffset? StartAt { get; init; }

    /// <summary>No occurrence after this.</summary>
    public DateTimeOffset? EndAt { get; init; }

    /// <summary>Stop after this many successful runs.</summary>
    public int? Limit { get; init; }

    /// <summary>skip (default), queueOne or allow.</summary>
    public OverlapPolicy? Overlap { get; init; }

    /// <summary>Seconds within which a missed occurrence still runs.</summary>
    public double? CatchUpWindowSeconds { get; init; }

    /// <summary>Priority of each job.</summary>
    public int Priority { get; init; }

    /// <summary>Queue of each job.</summary>
    public string? Queue { get; init; }

    /// <summary>Attempts per job.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Seconds one attempt may run.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>The body for <paramref name="request"/>.</summary>
    public static RecurringBody From(RecurringScheduleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new RecurringBody
        {
            Kind = request.Kind,
            Payload = request.Payload,
            Cron = request.Cron,
            EverySeconds = request.Every?.TotalSeconds,
            Named = request.Named,
            TimeZone = request.TimeZone,
            StartAt = request.StartAt,
            EndAt = request.EndAt,
            Limit = request.Limit,
            Overlap = request.Overlap,
            CatchUpWindowSeconds = request.CatchUpWindow?.TotalSeconds,
            Priority = request.Priority,
            Queue = request.Queue,
            MaxAttempts = request.MaxAttempts,
            TimeoutSeconds = request.Timeout?.TotalSeconds,
        };
    }

    /// <summary>The request this body describes, for the schedule <paramref name="name"/>.</summary>
    public RecurringScheduleRequest ToRequest(string name) =>
        new()
        {
            Name = name,
            Kind = Kind ?? throw new JobValidationException("kind", "is required"),
            Payload = Payload,
            Cron = Cron,
            Every = EverySeconds is { } e ? ScheduleBody.Seconds(e, "everySeconds") : null,
            Named = Named,
            TimeZone = TimeZone,
            StartAt = StartAt,
            EndAt = EndAt,
            Limit = Limit,
            Overlap = Overlap ?? OverlapPolicy.Skip,
            CatchUpWindow = CatchUpWindowSeconds is { } c ? ScheduleBody.Seconds(c, "catchUpWindowSeconds") : null,
            Priority = Priority,
            Queue = Queue,
            MaxAttempts = MaxAttempts,
            Timeout = TimeoutSeconds is { } t ? ScheduleBody.Seconds(t, "timeoutSeconds") : null,
        };
}

/// <summary>The body of POST /api/v1/jobs/{id}/reschedule.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RescheduleBody(DateTimeOffset RunAt);

/// <summary>One item of the answer to POST /api/v1/jobs/batch: the result, or that item's error.</summary>
public sealed record BatchItem(int Index, ScheduleResult? Result, ProblemBody? Error);

/// <summary>The node's identity and statistics (GET /api/v1/node).</summary>
public sealed record NodeInfo(
    string Node,
    DateTimeOffset StartedAt,
    long Scheduled,
    long Started,
    long Succeeded,
    long Failed,
    long Retried,
    long TimedOut,
    long Recovered,
    long Cancelled
);

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
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Field { get; init; }

    /// <summary>For conflicts: the job's status.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JobStatus? JobStatus { get; init; }

    /// <summary>For conflicts: the refused operation.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Operation { get; init; }

    /// <summary>For unknown jobs and conflicts: the job id.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? JobId { get; init; }

    /// <summary>For duplicate jobs: the unique key.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UniqueKey { get; init; }

    /// <summary>For unknown recurring schedules: the name.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    /// <summary>For id conflicts: the existing job's kind.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExistingKind { get; init; }

    /// <summary>For id conflicts: the kind the request asked for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RequestedKind { get; init; }

    /// <summary>For failed preconditions: the revision the request expected.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ExpectedRevision { get; init; }

    /// <summary>For failed preconditions: the job's revision now.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Revision { get; init; }

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
            JobValidationException v => body with { Field = WireField(v.Field), Detail = Rename(error.Message, v.Field, WireField(v.Field)) },
            JobNotFoundException n => body with { JobId = n.JobId },
            JobStateConflictException c => body with { JobId = c.JobId, JobStatus = c.Status, Operation = c.Operation },
            DuplicateJobException d => body with { JobId = d.JobId, UniqueKey = d.UniqueKey },
            JobKindConflictException k => body with { JobId = k.JobId, ExistingKind = k.ExistingKind, RequestedKind = k.RequestedKind },
            RecurringNotFoundException r => body with { Name = r.Name },
            JobPreconditionFailedException p => body with { JobId = p.JobId, ExpectedRevision = p.ExpectedRevision, Revision = p.ActualRevision },
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
            "invalid-request" or JobValidationException.TooLarge when Field is { } field => new JobValidationException(
                ClientField(field),
                detail.StartsWith(field + ": ", StringComparison.Ordinal) ? detail[(field.Length + 2)..] : detail,
                code
            ),
            "job-not-found" when JobId is { } id => new JobNotFoundException(id),
            "job-state-conflict" when JobId is { } id && JobStatus is { } status => new JobStateConflictException(id, status, Operation ?? "change"),
            "duplicate-job" when JobId is { } id => new DuplicateJobException(id, UniqueKey),
            "job-id-conflict" when JobId is { } id && ExistingKind is { } existing => new JobKindConflictException(
                id,
                existing,
                RequestedKind ?? "?"
            ),
            "recurring-not-found" when Name is { } name => new RecurringNotFoundException(name),
            "precondition-failed" when JobId is { } id => new JobPreconditionFailedException(id, ExpectedRevision ?? 0, Revision ?? 0),
            _ => new JobsException(code, detail),
        };
    }

    // The C# API takes durations; the JSON bodies take seconds. Problems name the field as the request did.
    private static readonly (string Client, string Wire)[] Fields =
    [
        ("delay", "delaySeconds"),
        ("timeout", "timeoutSeconds"),
        ("uniquePeriod", "uniquePeriodSeconds"),
        ("every", "everySeconds"),
        ("catchUpWindow", "catchUpWindowSeconds"),
    ];

    private static string WireField(string field) => Array.Find(Fields, f => f.Client == field) is { Wire: { } wire } ? wire : field;

    private static string ClientField(string field) => Array.Find(Fields, f => f.Wire == field) is { Client: { } client } ? client : field;

    private static string Rename(string message, string from, string to) =>
        from != to && message.StartsWith(from + ": ", StringComparison.Ordinal) ? to + message[from.Length..] : message;

    /// <summary>The HTTP status an error is answered with.</summary>
    public static int StatusOf(JobsException error) =>
        error switch
        {
            JobValidationException { ErrorCode: JobValidationException.TooLarge } => 413,
            JobValidationException => 400,
            JobNotFoundException or RecurringNotFoundException => 404,
            JobStateConflictException or DuplicateJobException or JobKindConflictException => 409,
            JobPreconditionFailedException => 412,
            _ when error.ErrorCode is "timeout" or "storage-failure" or "unavailable" => 503,
            _ => 500,
        };
}
