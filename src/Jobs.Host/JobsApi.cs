using System.Text.Json;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Jobs.Host;

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

    internal ScheduleRequest ToRequest() => new()
    {
        Kind = Kind ?? throw new JobValidationException("kind", "kind is required"),
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
        double.IsFinite(value) && Math.Abs(value) < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(value)
            : throw new JobValidationException(field, $"{field} must be a finite number of seconds");
}

/// <summary>The body of POST /api/v1/jobs/{id}/reschedule.</summary>
public sealed record RescheduleBody(DateTimeOffset RunAt);

/// <summary>The node's identity and statistics (GET /api/v1/node).</summary>
public sealed record NodeInfo(string Node, DateTimeOffset StartedAt, long Scheduled, long Started, long Succeeded, long Failed, long Retried, long TimedOut, long Recovered, long Cancelled);

/// <summary>Maps the HTTP/JSON API (version 1) onto <see cref="IJobsClient"/>; errors are RFC 9457 problem details with a stable code.</summary>
public static class JobsApi
{
    /// <summary>Adds the /api/v1 endpoints.</summary>
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (JobsException ex)
            {
                return Problem(ex);
            }
        });

        api.MapPost("/jobs", async Task<Results<Created<ScheduleResult>, Ok<ScheduleResult>>> (ScheduleBody body, IJobsClient client, CancellationToken ct) =>
        {
            var result = await client.ScheduleAsync(body.ToRequest(), ct).ConfigureAwait(false);
            return result.AlreadyExisted ? TypedResults.Ok(result) : TypedResults.Created($"/api/v1/jobs/{Uri.EscapeDataString(result.JobId)}", result);
        });
        api.MapPost("/jobs/batch", async (ScheduleBody[] bodies, IJobsClient client, CancellationToken ct) =>
        {
            var requests = new List<ScheduleRequest>(bodies.Length);
            var failed = new Dictionary<int, JobsException>();
            for (var i = 0; i < bodies.Length; i++)
            {
                try
                {
                    requests.Add(bodies[i].ToRequest());
                }
                catch (JobValidationException ex)
                {
                    failed[i] = ex;
                    requests.Add(new ScheduleRequest { Kind = string.Empty });
                }
            }

            var results = await client.ScheduleManyAsync(requests, ct).ConfigureAwait(false);
            return TypedResults.Ok(results.Select(r => failed.TryGetValue(r.Index, out var error)
                ? new BatchItem(r.Index, null, Describe(error))
                : new BatchItem(r.Index, r.Result, r.Error is { } e ? Describe(e) : null)));
        });
        api.MapGet("/jobs/{id}", (string id, IJobsClient client, CancellationToken ct) => client.GetAsync(id, ct));
        api.MapPost("/jobs/{id}/cancel", async (string id, IJobsClient client, CancellationToken ct) =>
        {
            await client.CancelAsync(id, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        });
        api.MapPost("/jobs/{id}/reschedule", async (string id, RescheduleBody body, IJobsClient client, CancellationToken ct) =>
        {
            await client.RescheduleAsync(id, body.RunAt, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        });
        api.MapDelete("/jobs/{id}", async (string id, IJobsClient client, CancellationToken ct) =>
        {
            await client.DestroyAsync(id, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        });
        api.MapGet("/jobs", (string? status, string? kind, string? queue, int? limit, string? cursor, IJobsClient client, CancellationToken ct) =>
            client.ListAsync(new JobQuery { Status = ParseStatus(status), Kind = kind, Queue = queue, Limit = limit ?? 100, Cursor = cursor }, ct));
        api.MapGet("/counts", (string? kind, string? queue, IJobsClient client, CancellationToken ct) =>
            client.CountAsync(new JobQuery { Kind = kind, Queue = queue }, ct));
        api.MapGet("/node", (JobsNode node) => node.Statistics is { } s
            ? Results.Ok(new NodeInfo(node.NodeName!, s.StartedAt, s.Scheduled, s.Started, s.Succeeded, s.Failed, s.Retried, s.TimedOut, s.Recovered, s.Cancelled))
            : Results.Problem(statusCode: 503, title: "starting", detail: "the node has not started yet"));
        return endpoints;
    }

    /// <summary>
    /// Turns a request the framework could not bind (malformed JSON, a wrong type, a missing body) into a 400 problem
    /// that says what was wrong, instead of an empty 400.
    /// </summary>
    public static IApplicationBuilder UseBadRequestProblems(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            var detail = ex.InnerException is JsonException json
                ? $"the body is not valid JSON for this request{(json.Path is { } path ? $" at {path}" : string.Empty)}: {json.Message}"
                : ex.Message;
            var problem = new ProblemDetails { Status = ex.StatusCode, Title = "bad-request", Detail = detail, Type = "https://jobs.dev/errors/bad-request" };
            problem.Extensions["code"] = "bad-request";
            context.Response.StatusCode = ex.StatusCode;
            await context.Response.WriteAsJsonAsync(problem, (JsonSerializerOptions?)null, "application/problem+json", context.RequestAborted).ConfigureAwait(false);
        }
    });

    /// <summary>One item of a batch answer: the result, or the error for that item.</summary>
    public sealed record BatchItem(int Index, ScheduleResult? Result, ProblemDetails? Error);

    private static ProblemDetails Describe(JobsException ex)
    {
        var problem = new ProblemDetails
        {
            Status = StatusOf(ex),
            Title = ex.ErrorCode,
            Detail = ex.Message,
            Type = "https://jobs.dev/errors/" + ex.ErrorCode,
        };
        problem.Extensions["code"] = ex.ErrorCode;
        switch (ex)
        {
            case JobValidationException v:
                problem.Extensions["field"] = v.Field;
                break;
            case JobStateConflictException c:
                problem.Extensions["status"] = c.Status.ToString();
                break;
        }

        return problem;
    }

    private static JobStatus? ParseStatus(string? status) =>
        status is null ? null
        : !status.All(char.IsAsciiLetter) || !Enum.TryParse<JobStatus>(status, ignoreCase: true, out var parsed)
            ? throw new JobValidationException("status", $"'{status}' is not a status (one of: {string.Join(", ", Enum.GetNames<JobStatus>().Select(n => n.ToLowerInvariant()))})")
            : parsed;

    private static IResult Problem(JobsException ex) => TypedResults.Problem(Describe(ex));

    private static int StatusOf(JobsException ex) => ex switch
    {
        JobValidationException => StatusCodes.Status400BadRequest,
        JobNotFoundException => StatusCodes.Status404NotFound,
        JobStateConflictException => StatusCodes.Status409Conflict,
        _ when ex.ErrorCode is "timeout" or "storage-failure" or "unavailable" => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };
}
