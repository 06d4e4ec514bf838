using System.Text;
using System.Text.Json;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Client.Http;

namespace Jobs.Host;

/// <summary>Maps the HTTP/JSON API (version 1) onto <see cref="IJobsClient"/>; errors are RFC 9457 problem details with a stable code.</summary>
public static class JobsApi
{
    private const string ProblemJson = "application/problem+json";

    /// <summary>Adds the /api/v1 endpoints.</summary>
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints
            .MapGroup("/api/v1")
            .WithTags("Jobs")
            .AddEndpointFilter(
                async (context, next) =>
                {
                    try
                    {
                        return await next(context).ConfigureAwait(false);
                    }
                    catch (JobsException ex)
                    {
                        var problem = ProblemBody.From(ex);
                        if (problem.Status == 503)
                        {
                            context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
                        }

                        return Results.Json(problem, JobsWire.Options, ProblemJson, problem.Status);
                    }
                }
            );

        api.MapPost("/jobs", async (ScheduleBody body, IJobsClient client, CancellationToken ct) =>
            {
                var result = await client.ScheduleAsync(body.ToRequest(), ct).ConfigureAwait(false);
                return result.AlreadyExisted ? Results.Ok(result) : Results.Created($"/api/v1/jobs/{Uri.EscapeDataString(result.JobId)}", result);
            })
            .WithName("Schedule")
            .WithSummary("Schedule a job")
            .Produces<ScheduleResult>(201)
            .Produces<ScheduleResult>(200)
            .ProducesProblem(400)
            .ProducesProblem(413);
        api.MapPost("/jobs/batch", async (ScheduleBody?[] bodies, IJobsClient client, CancellationToken ct) =>
            {
                var requests = new List<ScheduleRequest>(bodies.Length);
                var invalid = new Dictionary<int, JobsException>();
                for (var i = 0; i < bodies.Length; i++)
                {
                    try
                    {
                        requests.Add((bodies[i] ?? throw new JobValidationException("item", "must be a job object, not null")).ToRequest());
                    }
                    catch (JobValidationException ex)
                    {
                        // Keeps the item's place; the node rejects the empty kind, and the item reports this error instead.
                        invalid[i] = ex;
                        requests.Add(new ScheduleRequest { Kind = string.Empty });
                    }
                }

                var results = await client.ScheduleManyAsync(requests, ct).ConfigureAwait(false);
                return Results.Ok(
                    results.Select(r =>
                        invalid.TryGetValue(r.Index, out var error)
                            ? new BatchItem(r.Index, null, ProblemBody.From(error))
                            : new BatchItem(r.Index, r.Result, r.Error is { } e ? ProblemBody.From(e) : null)
                    )
                );
            })
            .WithName("ScheduleMany")
            .WithSummary("Schedule many jobs; errors are reported per item")
            .Produces<BatchItem[]>(200)
            .ProducesProblem(400)
            .ProducesProblem(413);
        api.MapGet("/jobs/{id}", async (string id, HttpContext http, IJobsClient client, CancellationToken ct) =>
            {
                var job = await client.GetAsync(id, ct).ConfigureAwait(false);
                http.Response.Headers.ETag = HttpJobsClient.ETag(job.Revision);
                return job;
            })
            .WithName("GetJob")
            .WithSummary("A job with its attempts; the ETag is its revision, for If-Match on changes")
            .Produces<JobInfo>(200)
            .ProducesProblem(404);
        api.MapPost("/jobs/{id}/cancel", async (string id, HttpContext http, IJobsClient client, CancellationToken ct) =>
            {
                await (IfMatch(http) is { } revision ? client.CancelAsync(id, revision, ct) : client.CancelAsync(id, ct)).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("CancelJob")
            .WithSummary("Cancel a job; a running handler's token is cancelled. If-Match: only at that revision")
            .Produces(204)
            .ProducesProblem(404)
            .ProducesProblem(409)
            .ProducesProblem(412);
        api.MapPost("/jobs/{id}/retry", async (string id, IJobsClient client, CancellationToken ct) =>
            {
                await client.RetryAsync(id, ct).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("RetryJob")
            .WithSummary("Run a failed or cancelled job again from now, attempts renewed")
            .Produces(204)
            .ProducesProblem(404)
            .ProducesProblem(409);
        api.MapPost("/jobs/{id}/reschedule", async (string id, RescheduleBody body, HttpContext http, IJobsClient client, CancellationToken ct) =>
            {
                await (
                    IfMatch(http) is { } revision ? client.RescheduleAsync(id, body.RunAt, revision, ct) : client.RescheduleAsync(id, body.RunAt, ct)
                ).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("RescheduleJob")
            .WithSummary("Move a waiting job to another time. If-Match: only at that revision")
            .Produces(204)
            .ProducesProblem(400)
            .ProducesProblem(404)
            .ProducesProblem(409)
            .ProducesProblem(412);
        api.MapDelete("/jobs/{id}", async (string id, HttpContext http, IJobsClient client, CancellationToken ct) =>
            {
                await (IfMatch(http) is { } revision ? client.DestroyAsync(id, revision, ct) : client.DestroyAsync(id, ct)).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("DestroyJob")
            .WithSummary("Delete a job and its history. If-Match: only at that revision")
            .Produces(204)
            .ProducesProblem(404)
            .ProducesProblem(412);
        api.MapGet(
                "/jobs",
                (string? status, string? kind, string? queue, int? limit, string? cursor, string? order, IJobsClient client, CancellationToken ct) =>
                    client.ListAsync(
                        new JobQuery
                        {
                            Status = ParseStatus(status),
                            Kind = kind,
                            Queue = queue,
                            Limit = limit ?? 100,
                            Cursor = cursor,
                            Order = ParseOrder(order),
                        },
                        ct
                    )
            )
            .WithName("ListJobs")
            .WithSummary(
                "Jobs by status, kind and queue, cursor-paged; order=backlog (highest "
                    + "priority first, the default) or newest (most recently changed first)"
            )
            .Produces<JobPage>(200)
            .ProducesProblem(400);
        api.MapGet("/jobs/{id}/watch", (string id, HttpContext http, IJobsClient client, HttpSettings settings, CancellationToken ct) =>
                StreamAsync(http, settings, client.WatchAsync(new WatchQuery { JobId = id }, ct), deferStart: true, ct)
            )
            .WithName("WatchJob")
            .WithSummary("Server-sent events: the job's current state, then each transition until it finishes")
            .Produces(200, contentType: "text/event-stream")
            .ProducesProblem(404);
        api.MapGet(
                "/watch",
                (string? status, string? kind, string? queue, HttpContext http, IJobsClient client, HttpSettings settings, CancellationToken ct) =>
                    StreamAsync(
                        http,
                        settings,
                        client.WatchAsync(
                            new WatchQuery
                            {
                                Status = ParseStatus(status),
                                Kind = kind,
                                Queue = queue,
                            },
                            ct
                        ),
                        deferStart: false,
                        ct
                    )
            )
            .WithName("WatchJobs")
            .WithSummary("Server-sent events: every transition matching the filters")
            .Produces(200, contentType: "text/event-stream")
            .ProducesProblem(400);
        api.MapGet("/counts", (string? kind, string? queue, IJobsClient client, CancellationToken ct) =>
                client.CountAsync(new JobQuery { Kind = kind, Queue = queue }, ct)
            )
            .WithName("CountJobs")
            .WithSummary("Job counts by status")
            .Produces<Dictionary<JobStatus, long>>(200);
        api.MapPut("/recurring/{name}", (string name, RecurringBody body, IJobsClient client, CancellationToken ct) =>
                client.SetRecurringAsync(body.ToRequest(name), ct)
            )
            .WithName("SetRecurring")
            .WithSummary("Create or replace a recurring schedule (cron, interval or named)")
            .Produces<RecurringScheduleInfo>(200)
            .ProducesProblem(400);
        api.MapGet("/recurring", (IJobsClient client, CancellationToken ct) => client.ListRecurringAsync(ct))
            .WithName("ListRecurring")
            .WithSummary("Every recurring schedule with its previous and next occurrence")
            .Produces<RecurringScheduleInfo[]>(200);
        api.MapGet("/recurring/{name}", (string name, IJobsClient client, CancellationToken ct) => client.GetRecurringAsync(name, ct))
            .WithName("GetRecurring")
            .WithSummary("A recurring schedule with its previous and next occurrence")
            .Produces<RecurringScheduleInfo>(200)
            .ProducesProblem(404);
        api.MapPost("/recurring/{name}/pause", async (string name, IJobsClient client, CancellationToken ct) =>
            {
                await client.PauseRecurringAsync(name, ct).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("PauseRecurring")
            .WithSummary("Pause a recurring schedule")
            .Produces(204)
            .ProducesProblem(404);
        api.MapPost("/recurring/{name}/resume", async (string name, IJobsClient client, CancellationToken ct) =>
            {
                await client.ResumeRecurringAsync(name, ct).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("ResumeRecurring")
            .WithSummary("Resume a paused recurring schedule from its next occurrence")
            .Produces(204)
            .ProducesProblem(404);
        api.MapPost("/recurring/{name}/trigger", async (string name, IJobsClient client, CancellationToken ct) =>
            {
                var result = await RecurringTrigger.TriggerAsync(client, name, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
                return Results.Created($"/api/v1/jobs/{Uri.EscapeDataString(result.JobId)}", result);
            })
            .WithName("TriggerRecurring")
            .WithSummary("Run one job of a recurring schedule now (the schedule is unchanged)")
            .Produces<ScheduleResult>(201)
            .ProducesProblem(404);
        api.MapDelete("/recurring/{name}", async (string name, IJobsClient client, CancellationToken ct) =>
            {
                await client.DeleteRecurringAsync(name, ct).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("DeleteRecurring")
            .WithSummary("Delete a recurring schedule (its jobs stay)")
            .Produces(204)
            .ProducesProblem(404);
        api.MapGet("/queues", (IJobsClient client, CancellationToken ct) => client.ListQueuesAsync(ct))
            .WithName("ListQueues")
            .WithSummary("Queues with workers, running jobs, backlog and pause state")
            .Produces<QueueInfo[]>(200);
        api.MapPost("/queues/{name}/pause", async (string name, IJobsClient client, CancellationToken ct) =>
            {
                await client.PauseQueueAsync(name, ct).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("PauseQueue")
            .WithSummary("Pause a queue: due jobs wait, running jobs finish")
            .Produces(204)
            .ProducesProblem(400);
        api.MapPost("/queues/{name}/resume", async (string name, IJobsClient client, CancellationToken ct) =>
            {
                await client.ResumeQueueAsync(name, ct).ConfigureAwait(false);
                return Results.NoContent();
            })
            .WithName("ResumeQueue")
            .WithSummary("Resume a paused queue")
            .Produces(204)
            .ProducesProblem(400);
        api.MapGet("/node", (JobsNode node) => node.Statistics is { } s
                    ? Results.Ok(
                        new NodeInfo(
                            node.NodeName!,
                            s.StartedAt,
                            s.Scheduled,
                            s.Started,
                            s.Succeeded,
                            s.Failed,
                            s.Retried,
                            s.TimedOut,
                            s.Recovered,
                            s.Cancelled
                        )
                    )
                    : Results.Json(
                        new ProblemBody
                        {
                            Status = 503,
                            Title = "unavailable",
                            Code = "unavailable",
                            Detail = "the node has not started yet",
                        },
                        JobsWire.Options,
                        ProblemJson,
                        503
                    ))
            .WithName("GetNode")
            .WithSummary("This node's name and statistics")
            .Produces<NodeInfo>(200)
            .ProducesProblem(503);
        api.MapGet("/nodes", async (JobsNode node, CancellationToken ct) =>
            {
                try
                {
                    return Results.Ok(await node.GetMembersAsync(TimeSpan.FromSeconds(3), ct).ConfigureAwait(false));
                }
                catch (JobsException ex) when (ex.ErrorCode == "unavailable")
                {
                    return Results.Json(
                        new ProblemBody
                        {
                            Status = 503,
                            Title = "unavailable",
                            Code = "unavailable",
                            Detail = ex.Message,
                        },
                        JobsWire.Options,
                        ProblemJson,
                        503
                    );
                }
            })
            .WithName("ListNodes")
            .WithSummary("The cluster's members: status, reachability, where the scheduler runs, job shards, entities and running attempts of each")
            .Produces<ClusterMember[]>(200)
            .ProducesProblem(503);
        return endpoints;
    }

    /// <summary>
    /// Adds the probes, outside /api so they need no API key and reveal nothing but status: /healthz (liveness: the
    /// process answers and its node has not stopped) and /readyz (readiness: the journal answers a read, the scheduler
    /// and every worker pool process messages, each within 5 s; 503 with the failing checks otherwise). /health/live
    /// and /health/ready are the same probes under their older names.
    /// </summary>
    public static IEndpointRouteBuilder MapJobsHealth(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (var path in new[] { "/healthz", "/health/live" })
        {
            endpoints
                .MapGet(path, (JobsNode node) =>
                    node.System is { } system && system.WhenTerminated.IsCompleted
                        ? Results.Text("stopped\n", statusCode: 503)
                        : Results.Text("live\n")
                )
                .ExcludeFromDescription();
        }

        foreach (var path in new[] { "/readyz", "/health/ready" })
        {
            endpoints
                .MapGet(path, async (JobsNode node, CancellationToken ct) =>
                {
                    var health = await node.CheckHealthAsync(TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
                    var body = new StringBuilder(health.Ready ? "ready\n" : "not ready\n");
                    foreach (var (check, result) in health.Checks)
                    {
                        body.Append(check).Append(": ").Append(result).Append('\n');
                    }

                    return Results.Text(body.ToString(), statusCode: health.Ready ? 200 : 503);
                })
                .ExcludeFromDescription();
        }

        return endpoints;
    }

    /// <summary>Seconds a client should wait before retrying a 503 (storage or node unavailable).</summary>
    private const string RetryAfterSeconds = "5";

    /// <summary>The revision in an If-Match header (a job's ETag), null without one or for "*"; anything else is a 400.</summary>
    private static long? IfMatch(HttpContext http)
    {
        var header = http.Request.Headers.IfMatch.ToString();
        if (header.Length == 0 || header == "*")
        {
            return null;
        }

        var text = header.StartsWith("W/", StringComparison.Ordinal) ? header[2..] : header;
        return
            text.Length > 2
            && text[0] == '"'
            && text[^1] == '"'
            && long.TryParse(text[1..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var revision)
            ? revision
            : throw new JobValidationException("If-Match", "must be one job ETag as sent by GET /api/v1/jobs/{id}, such as \"7\"");
    }

    /// <summary>Counts the watch streams open on one node.</summary>
    internal sealed class StreamCounter
    {
        private int _open;

        public bool TryOpen(int limit)
        {
            if (Interlocked.Increment(ref _open) <= limit)
            {
                return true;
            }

            Interlocked.Decrement(ref _open);
            return false;
        }

        public void Close() => Interlocked.Decrement(ref _open);
    }

    /// <summary>
    /// Writes transitions as server-sent events ("transition", JSON data), with keep-alive comments while idle. The
    /// stream of one job awaits its first transition (the current state) before the response starts, so an unknown
    /// job is still a 404 problem; a filtered stream starts at once. A failure after the start is sent as an "error"
    /// event carrying the problem.
    /// </summary>
    private static async Task StreamAsync(
        HttpContext http,
        HttpSettings settings,
        IAsyncEnumerable<JobTransition> transitions,
        bool deferStart,
        CancellationToken cancellationToken
    )
    {
        var streams = http.RequestServices.GetRequiredService<StreamCounter>();
        if (!streams.TryOpen(settings.MaxStreams))
        {
            throw new JobsException("unavailable", $"{settings.MaxStreams} watch streams are open already (jobs.http.max-streams)");
        }

        // A stopping node ends its streams at once (clients reconnect elsewhere or after the restart) instead of
        // holding the shutdown open.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(
            cancellationToken,
            http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping
        );
        var stopping = linked.Token;
        try
        {
            await using var items = transitions.GetAsyncEnumerator(stopping);
            var next = items.MoveNextAsync().AsTask();
            var started = false;
            try
            {
                if (!deferStart)
                {
                    started = true;
                    http.Response.ContentType = "text/event-stream";
                    http.Response.Headers.CacheControl = "no-cache";
                    await http.Response.Body.FlushAsync(stopping).ConfigureAwait(false);
                }

                while (true)
                {
                    while (started && await Task.WhenAny(next, Task.Delay(settings.StreamKeepAlive, stopping)).ConfigureAwait(false) != next)
                    {
                        await http.Response.WriteAsync(": keep-alive\n\n", stopping).ConfigureAwait(false);
                        await http.Response.Body.FlushAsync(stopping).ConfigureAwait(false);
                    }

                    var more = await next.ConfigureAwait(false);
                    if (!started)
                    {
                        started = true;
                        http.Response.ContentType = "text/event-stream";
                        http.Response.Headers.CacheControl = "no-cache";
                    }

                    if (!more)
                    {
                        break;
                    }

                    await http
                        .Response.WriteAsync(
                            "event: transition\ndata: " + JsonSerializer.Serialize(items.Current, JobsWire.Options) + "\n\n",
                            stopping
                        )
                        .ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(stopping).ConfigureAwait(false);
                    next = items.MoveNextAsync().AsTask();
                }
            }
            catch (JobsException ex) when (started)
            {
                await http
                    .Response.WriteAsync("event: error\ndata: " + JsonSerializer.Serialize(ProblemBody.From(ex), JobsWire.Options) + "\n\n", stopping)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The client went away, or the node is stopping: the stream ends.
            }
            finally
            {
                // An iterator cannot be disposed while a MoveNext is in flight: let the cancelled one finish first.
                await next.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
                    .ConfigureAwait(false);
            }
        }
        finally
        {
            streams.Close();
        }
    }

    /// <summary>
    /// Turns a request the framework could not bind (malformed JSON, a wrong type, a missing body) into a 400 problem
    /// that says what was wrong, instead of an empty 400.
    /// </summary>
    public static IApplicationBuilder UseBadRequestProblems(this IApplicationBuilder app) =>
        app.Use(
            async (context, next) =>
            {
                try
                {
                    await next(context).ConfigureAwait(false);
                    // Answers the framework gives without a body get one that says what was wrong.
                    if (
                        !context.Response.HasStarted
                        && context.Response.ContentType is null
                        && context.Response.ContentLength is null
                        && context.Response.StatusCode is 404 or 405 or 415
                    )
                    {
                        var (code, detail) = context.Response.StatusCode switch
                        {
                            404 => ("no-such-endpoint", $"no endpoint {context.Request.Method} {context.Request.Path}"),
                            405 => ("method-not-allowed", $"{context.Request.Method} is not allowed on {context.Request.Path}"),
                            _ => ("unsupported-media-type", $"the body must be application/json, not {context.Request.ContentType ?? "absent"}"),
                        };
                        var problem = new ProblemBody
                        {
                            Status = context.Response.StatusCode,
                            Title = code,
                            Code = code,
                            Detail = detail,
                            Type = "https://jobs.dev/errors/" + code,
                        };
                        await context.Response.WriteAsJsonAsync(problem, JobsWire.Options, ProblemJson, context.RequestAborted).ConfigureAwait(false);
                    }
                }
                catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
                {
                    var (detail, field) = Describe(ex);
                    var problem = new ProblemBody
                    {
                        Status = ex.StatusCode,
                        Title = "bad-request",
                        Code = "bad-request",
                        Detail = detail,
                        Field = field,
                        Type = "https://jobs.dev/errors/bad-request",
                    };
                    context.Response.StatusCode = ex.StatusCode;
                    await context.Response.WriteAsJsonAsync(problem, JobsWire.Options, ProblemJson, context.RequestAborted).ConfigureAwait(false);
                }
            }
        );

    /// <summary>
    /// What was wrong with a request the framework could not bind, in the API's terms (no parameter types or framework
    /// advice), and the field at fault where there is one.
    /// </summary>
    private static (string Detail, string? Field) Describe(BadHttpRequestException ex)
    {
        if (ex.InnerException is JsonException json)
        {
            var path = json.Path;
            var property = path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
            if (json.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
            {
                // The path ends at the unknown property: refuse it, so that a typo ("delay") is not silently ignored.
                var name = property?.Split('.', '[')[^1] ?? "?";
                return ($"'{name}' is not a property of this request (check its spelling; see /api/v1/openapi.json)", name);
            }

            if (
                json.InnerException is InvalidOperationException or DecoderFallbackException
                || json.Message.Contains("UTF-8", StringComparison.Ordinal)
            )
            {
                return ("the body is not valid UTF-8 JSON", property);
            }

            // The serializer's messages name CLR types ("could not be converted to System.Nullable`1[...]"): say what
            // the client can act on instead. Only a value of the wrong type names its field; a syntax error's path is
            // merely where reading stopped.
            if (json.Message.Contains("could not be converted", StringComparison.Ordinal))
            {
                return ($"the value at {path} has the wrong type for this field", property);
            }

            var reason = System.Text.RegularExpressions.Regex.Replace(
                json.Message.Split(" Path:", 2)[0],
                @"\s*\b(System|Jobs)\.[\w`.\[\],]+",
                string.Empty
            );
            return ($"the body is not valid JSON for this request{(path is not null ? $" at {path}" : string.Empty)}: {reason}", null);
        }

        var message = ex.Message;
        if (
            message.StartsWith("Implicit body inferred", StringComparison.Ordinal)
            || message.StartsWith("Required parameter", StringComparison.Ordinal) && message.Contains("from body", StringComparison.Ordinal)
        )
        {
            return ("the request needs a JSON body", null);
        }

        var bind = System.Text.RegularExpressions.Regex.Match(
            message,
            "^Failed to bind parameter \"(?:[^\"]*\\s)?(?<name>\\w+)\" from \"(?<value>.*)\"\\.$"
        );
        if (bind.Success)
        {
            var name = bind.Groups["name"].Value;
            return ($"'{bind.Groups["value"].Value}' is not a valid value for {name}", name);
        }

        var required = System.Text.RegularExpressions.Regex.Match(message, "^Required parameter \"(?:[^\"]*\\s)?(?<name>\\w+)\" was not provided");
        return required.Success
            ? ($"{required.Groups["name"].Value} is required", required.Groups["name"].Value)
            : ("the request could not be read", null);
    }

    private static JobListOrder ParseOrder(string? order) =>
        order?.ToLowerInvariant() switch
        {
            null or "" or "backlog" => JobListOrder.Backlog,
            "newest" => JobListOrder.Newest,
            _ => throw new JobValidationException("order", $"'{order}' is not an order (backlog or newest)"),
        };

    private static JobStatus? ParseStatus(string? status) =>
        status is null ? null
        : !status.All(char.IsAsciiLetter) || !Enum.TryParse<JobStatus>(status, ignoreCase: true, out var parsed)
            ? throw new JobValidationException(
                "status",
                $"'{status}' is not a status (one of: {string.Join(", ", Enum.GetNames<JobStatus>().Select(n => n.ToLowerInvariant()))})"
            )
        : parsed;
}
