using System.Globalization;
using System.Text.Json;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Client.Http;

namespace Jobs.Host.Dashboard;

/// <summary>Serves the dashboard under /dashboard: pages, actions (POST, CSRF-checked) and a live event stream.</summary>
public static class DashboardEndpoints
{
    private const string Html = "text/html; charset=utf-8";

    /// <summary>Adds the dashboard's guard and endpoints (nothing when <c>jobs.dashboard.enabled = off</c>).</summary>
    public static WebApplication MapJobsDashboard(this WebApplication app, HttpSettings http, DashboardSettings settings)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled)
        {
            return app;
        }

        var guard = new DashboardGuard(http, settings);
        app.Use(
            async (context, next) =>
            {
                if (!context.Request.Path.StartsWithSegments("/dashboard", StringComparison.Ordinal))
                {
                    await next(context).ConfigureAwait(false);
                    return;
                }

                context.Response.Headers.ContentSecurityPolicy =
                    "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src "
                    + "'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'";
                context.Response.Headers.XContentTypeOptions = "nosniff";
                context.Response.Headers["Referrer-Policy"] = "same-origin"; // (with no-referrer, browsers send "Origin: null" on our own form posts)
                var isLogin = context.Request.Path.Equals("/dashboard/login", StringComparison.Ordinal);
                var access = guard.Check(context);
                if (!access.Allowed && !(isLogin && guard.AuthRequired))
                {
                    if (access.Status == 401 && HttpMethods.IsGet(context.Request.Method))
                    {
                        context.Response.Redirect("/dashboard/login");
                        return;
                    }

                    context.Response.StatusCode = access.Status;
                    await context.Response.WriteAsync(access.Reason).ConfigureAwait(false);
                    return;
                }

                if (HttpMethods.IsPost(context.Request.Method))
                {
                    if (!context.Request.HasFormContentType)
                    {
                        context.Response.StatusCode = 415;
                        await context.Response.WriteAsync("dashboard actions are HTML form posts").ConfigureAwait(false);
                        return;
                    }

                    // A read-only session is refused whatever it sends; the others need this browser's form token.
                    if (!isLogin && !access.CanAct)
                    {
                        context.Response.StatusCode = 403;
                        await context.Response.WriteAsync("the dashboard is read-only for this session").ConfigureAwait(false);
                        return;
                    }

                    var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
                    if (!isLogin && !guard.CsrfValid(context, form))
                    {
                        context.Response.StatusCode = 403;
                        await context
                            .Response.WriteAsync("the form token is missing or wrong (cross-site request refused); reload the page")
                            .ConfigureAwait(false);
                        return;
                    }
                }

                context.Items[typeof(DashboardGuard.Access)] = access;
                try
                {
                    await next(context).ConfigureAwait(false);
                }
                catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
                {
                    // Every failure gets a page in the dashboard's own look, with a way back, instead of a bare status.
                    var (status, title, text) = ex switch
                    {
                        JobsException j when ProblemBody.StatusOf(j) == 503 => (
                            503,
                            "Storage unavailable",
                            "The job store is not answering right now. This page will work again once it is back; try again in a few seconds."
                        ),
                        JobNotFoundException or RecurringNotFoundException => (404, "Not found", ex.Message),
                        JobsException j => (ProblemBody.StatusOf(j), "Not done", ex.Message),
                        _ => (500, "Something went wrong", "The node could not show this page. The error is in the node's log."),
                    };
                    if (status == 500)
                    {
                        app.Logger.LogError(ex, "Dashboard page {Path} failed", context.Request.Path);
                    }

                    context.Response.Clear();
                    context.Response.StatusCode = status;
                    if (status == 503)
                    {
                        context.Response.Headers.RetryAfter = "5";
                    }

                    context.Response.ContentType = Html;
                    await context
                        .Response.WriteAsync(
                            DashboardPages.Layout(
                                title,
                                string.Empty,
                                $"<p>{DashboardPages.H(text)}</p><p><a href=\"/dashboard\">Back to the overview</a></p>",
                                string.Empty
                            ),
                            context.RequestAborted
                        )
                        .ConfigureAwait(false);
                }
            }
        );

        var group = app.MapGroup("/dashboard").ExcludeFromDescription();
        group.MapGet("/login", () => Results.Content(DashboardPages.Layout("Log in", string.Empty, DashboardPages.Login(null), string.Empty), Html));
        group.MapPost("/login", (HttpContext context) =>
        {
            var key = context.Request.Form["key"].ToString();
            if (guard.LogIn(context, key))
            {
                return Results.Redirect("/dashboard");
            }

            return Results.Content(
                DashboardPages.Layout("Log in", string.Empty, DashboardPages.Login("That key is not accepted."), string.Empty),
                Html,
                statusCode: 401
            );
        });

        group.MapGet(
            "/",
            async (HttpContext context, IJobsClient client, JobsNode node, IServiceProvider services, string? range, CancellationToken ct) =>
            {
                var queues = await client.ListQueuesAsync(ct).ConfigureAwait(false);
                var counts = new Dictionary<string, IReadOnlyDictionary<JobStatus, long>>(StringComparer.Ordinal);
                foreach (var q in queues)
                {
                    counts[q.Name] = await client.CountAsync(new JobQuery { Queue = q.Name }, ct).ConfigureAwait(false);
                }

                var key = RangeKey(range);
                return Page(node, "Overview", "overview", DashboardPages.Overview(queues, counts, key, Charts(services, key)));
            }
        );

        group.MapGet("/live", async (HttpContext context, IJobsClient client, IServiceProvider services, string? range, CancellationToken ct) =>
        {
            var key = RangeKey(range);
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-store";
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    var counts = await client.CountAsync(new JobQuery(), ct).ConfigureAwait(false);
                    var data = JsonSerializer.Serialize(
                        new { counts = counts.ToDictionary(c => DashboardPages.Lower(c.Key), c => c.Value), charts = Charts(services, key) }
                    );
                    await context.Response.WriteAsync($"event: stats\ndata: {data}\n\n", ct).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    await Task.Delay(DashboardSampler.Interval, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The browser left.
            }
        });

        group.MapGet(
            "/jobs",
            async (
                HttpContext context,
                IJobsClient client,
                JobsNode node,
                string? status,
                string? kind,
                string? queue,
                string? q,
                string? cursor,
                string? order,
                string? done,
                CancellationToken ct
            ) =>
            {
                if (!string.IsNullOrWhiteSpace(q))
                {
                    try
                    {
                        var found = await client.GetAsync(q.Trim(), ct).ConfigureAwait(false);
                        return Results.Redirect("/dashboard/jobs/" + Uri.EscapeDataString(found.Id));
                    }
                    catch (JobsException)
                    {
                        // Not an id we know: show the list with the other filters.
                    }
                }

                var query = new JobQuery
                {
                    Status = Enum.TryParse<JobStatus>(status, ignoreCase: true, out var s) ? s : null,
                    Kind = string.IsNullOrEmpty(kind) ? null : kind,
                    Queue = string.IsNullOrEmpty(queue) ? null : queue,
                    Cursor = string.IsNullOrEmpty(cursor) ? null : cursor,
                    Limit = 50,
                    Order = order == "backlog" ? JobListOrder.Backlog : JobListOrder.Newest,
                };
                JobPage page;
                try
                {
                    page = await client.ListAsync(query, ct).ConfigureAwait(false);
                }
                catch (JobValidationException)
                {
                    // A cursor of the other order, or an old one: start from the first page.
                    query = query with { Cursor = null };
                    page = await client.ListAsync(query, ct).ConfigureAwait(false);
                }

                var counts = await client.CountAsync(query, ct).ConfigureAwait(false);
                var total = query.Status is { } only ? counts[only] : counts.Values.Sum();
                return Page(
                    node,
                    "Jobs",
                    "jobs",
                    DashboardPages.JobList(
                        page,
                        query,
                        q,
                        total,
                        DateTimeOffset.UtcNow,
                        string.IsNullOrEmpty(done) ? null : done,
                        guard.CsrfToken(context),
                        CanAct(context)
                    )
                );
            }
        );

        group.MapGet("/jobs/{id}", async (string id, HttpContext context, IJobsClient client, JobsNode node, CancellationToken ct) =>
        {
            try
            {
                var job = await client.GetAsync(id, ct).ConfigureAwait(false);
                return Page(node, "Job " + job.Id, "jobs", DashboardPages.Job(job, settings.RedactKeys, guard.CsrfToken(context), CanAct(context)));
            }
            catch (Exception ex) when (ex is JobNotFoundException or JobValidationException)
            {
                // An id that is not well-formed names no job either: the same friendly 404 page.
                return Results.Content(
                    DashboardPages.Layout(
                        "Not found",
                        "jobs",
                        $"<p>No job {DashboardPages.H(id)}.</p><p><a href=\"/dashboard/jobs\">All jobs</a></p>",
                        node.NodeName ?? string.Empty
                    ),
                    Html,
                    statusCode: 404
                );
            }
        });

        group.MapPost("/jobs/{id}/{action}", async (string id, string action, HttpContext context, IJobsClient client, CancellationToken ct) =>
        {
            var back = "/dashboard/jobs/" + Uri.EscapeDataString(id);
            try
            {
                switch (action)
                {
                    case "cancel":
                        await client.CancelAsync(id, ct).ConfigureAwait(false);
                        break;
                    case "run-now":
                        var job = await client.GetAsync(id, ct).ConfigureAwait(false);
                        await (
                            job.Status is JobStatus.Failed or JobStatus.Cancelled
                                ? client.RetryAsync(id, ct)
                                : client.RescheduleAsync(id, DateTimeOffset.UtcNow, ct)
                        ).ConfigureAwait(false);
                        break;
                    case "reschedule":
                        var at = DateTime.Parse(
                            context.Request.Form["at"].ToString(),
                            CultureInfo.InvariantCulture,
                            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal
                        );
                        await client.RescheduleAsync(id, new DateTimeOffset(at, TimeSpan.Zero), ct).ConfigureAwait(false);
                        break;
                    case "delete":
                        await client.DestroyAsync(id, ct).ConfigureAwait(false);
                        back = "/dashboard/jobs";
                        break;
                    default:
                        return Results.NotFound();
                }
            }
            catch (Exception ex) when (ex is JobsException or FormatException)
            {
                return Results.Content(
                    DashboardPages.Layout(
                        "Not done",
                        "jobs",
                        $"<p>{DashboardPages.H(ex.Message)}</p><a href=\"{DashboardPages.H(back)}\">back</a>",
                        string.Empty
                    ),
                    Html,
                    statusCode: ex is JobNotFoundException ? 404
                        : ex is JobStateConflictException ? 409
                        : 400
                );
            }

            return Results.Redirect(back);
        });

        group.MapPost("/jobs/bulk", async (HttpContext context, IJobsClient client, CancellationToken ct) =>
        {
            var form = context.Request.Form;
            var action = form["action"].ToString();
            if (action is not ("cancel" or "retry" or "delete"))
            {
                return Results.Content(
                    DashboardPages.Layout("Not done", "jobs", "<p>Unknown action.</p><a href=\"/dashboard/jobs\">back</a>", string.Empty),
                    Html,
                    statusCode: 400
                );
            }

            var ids = form["id"].Where(id => !string.IsNullOrEmpty(id)).Select(id => id!).Distinct(StringComparer.Ordinal).Take(1000).ToList();
            var done = 0;
            var skipped = 0;
            foreach (var id in ids)
            {
                try
                {
                    await (
                        action switch
                        {
                            "cancel" => client.CancelAsync(id, ct),
                            "retry" => client.RetryAsync(id, ct),
                            _ => client.DestroyAsync(id, ct),
                        }
                    ).ConfigureAwait(false);
                    done++;
                }
                catch (Exception ex) when (ex is JobStateConflictException or JobNotFoundException or JobValidationException)
                {
                    skipped++; // finished, changed or gone meanwhile: the others go on
                }
            }

            var past = action switch
            {
                "cancel" => "cancelled",
                "retry" => "retried",
                _ => "deleted",
            };
            var message =
                ids.Count == 0
                    ? "Select jobs first."
                    : $"{done} {past}" + (skipped > 0 ? $", {skipped} skipped (not in a state that allows it, or gone)." : ".");
            return Results.Redirect("/dashboard/jobs?done=" + Uri.EscapeDataString(message));
        });

        group.MapPost("/jobs/retry-failed", async (HttpContext context, IJobsClient client, CancellationToken ct) =>
        {
            var form = context.Request.Form;
            var query = new JobQuery
            {
                Status = JobStatus.Failed,
                Kind = Empty(form["kind"]),
                Queue = Empty(form["queue"]),
                Limit = 1000,
            };
            var retried = 0;
            foreach (var job in (await client.ListAsync(query, ct).ConfigureAwait(false)).Items)
            {
                try
                {
                    await client.RetryAsync(job.Id, ct).ConfigureAwait(false);
                    retried++;
                }
                catch (JobsException)
                {
                    // Changed meanwhile: leave it.
                }
            }

            return Results.Redirect("/dashboard/jobs?status=failed&done=" + Uri.EscapeDataString($"{retried} retried."));
        });

        group.MapGet("/recurring", async (HttpContext context, IJobsClient client, JobsNode node, string? done, CancellationToken ct) =>
            Page(
                node,
                "Recurring schedules",
                "recurring",
                DashboardPages.Recurring(
                    await client.ListRecurringAsync(ct).ConfigureAwait(false),
                    DateTimeOffset.UtcNow,
                    string.IsNullOrEmpty(done) ? null : done,
                    guard.CsrfToken(context),
                    CanAct(context)
                )
            )
        );
        group.MapPost("/recurring/{name}/{action}", async (string name, string action, IJobsClient client, CancellationToken ct) =>
        {
            string message;
            switch (action)
            {
                case "pause":
                    await client.PauseRecurringAsync(name, ct).ConfigureAwait(false);
                    message = $"Paused {name}.";
                    break;
                case "resume":
                    await client.ResumeRecurringAsync(name, ct).ConfigureAwait(false);
                    message = $"Resumed {name}.";
                    break;
                case "trigger":
                    var job = await RecurringTrigger.TriggerAsync(client, name, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
                    message = $"Triggered {name}: job {job.JobId}.";
                    break;
                case "delete":
                    await client.DeleteRecurringAsync(name, ct).ConfigureAwait(false);
                    message = $"Deleted {name} (its jobs stay).";
                    break;
                default:
                    return Results.NotFound();
            }

            return Results.Redirect("/dashboard/recurring?done=" + Uri.EscapeDataString(message));
        });

        group.MapGet("/queues", async (HttpContext context, IJobsClient client, JobsNode node, CancellationToken ct) =>
            Page(
                node,
                "Queues",
                "queues",
                DashboardPages.Queues(
                    await client.ListQueuesAsync(ct).ConfigureAwait(false),
                    node.KindLimits,
                    guard.CsrfToken(context),
                    CanAct(context)
                )
            )
        );
        group.MapPost("/queues/{name}/{action}", async (string name, string action, IJobsClient client, CancellationToken ct) =>
        {
            await (action == "pause" ? client.PauseQueueAsync(name, ct) : client.ResumeQueueAsync(name, ct)).ConfigureAwait(false);
            return Results.Redirect("/dashboard/queues");
        });

        group.MapGet("/nodes", async (JobsNode node, CancellationToken ct) =>
        {
            var s = node.Statistics;
            if (s is null)
            {
                return Page(node, "Nodes", "nodes", "<p>starting</p>");
            }

            var members = await node.GetMembersAsync(TimeSpan.FromSeconds(3), ct).ConfigureAwait(false);
            var body =
                DashboardPages.Members(members)
                + "<h2>This node</h2>"
                + "<table>"
                + DashboardPages.HeaderRow(
                    "node",
                    "started",
                    "scheduled",
                    "started jobs",
                    "succeeded",
                    "failed",
                    "retried",
                    "timed out",
                    "recovered",
                    "cancelled"
                )
                + "<tr>"
                + DashboardPages.Cells(node.NodeName, s.StartedAt, s.Scheduled, s.Started, s.Succeeded, s.Failed, s.Retried)
                + DashboardPages.Cells(s.TimedOut, s.Recovered, s.Cancelled)
                + "</tr></table>";
            return Page(node, "Nodes", "nodes", body);
        });
        return app;

        static string? Empty(Microsoft.Extensions.Primitives.StringValues value) => string.IsNullOrEmpty(value.ToString()) ? null : value.ToString();
    }

    private static bool CanAct(HttpContext context) => context.Items[typeof(DashboardGuard.Access)] is DashboardGuard.Access { CanAct: true };

    private static DashboardSampler? Sampler(IServiceProvider services) =>
        services.GetServices<IHostedService>().OfType<DashboardSampler>().FirstOrDefault();

    private static string RangeKey(string? range) => DashboardPages.Ranges.Any(r => r.Key == range) ? range! : "1h";

    /// <summary>The overview's charts for a range: the live samples for minutes, the minute buckets for an hour or a day.</summary>
    private static string Charts(IServiceProvider services, string key)
    {
        var (_, _, length, points) = DashboardPages.Ranges.First(r => r.Key == key);
        var now = DateTimeOffset.UtcNow;
        var sampler = Sampler(services);
        if (key == "3m")
        {
            var samples = sampler?.Samples() ?? [];
            var series = samples
                .Select((s, i) => (now - (DashboardSampler.Interval * (samples.Count - 1 - i)), (double?)s.Throughput, (double?)s.LatencyMs))
                .ToList();
            return DashboardPages.Charts(series, now - length, now);
        }

        return DashboardPages.Charts(sampler?.History(length, points, now) ?? [], now - length, now);
    }

    private static IResult Page(JobsNode node, string title, string active, string body) =>
        Results.Content(DashboardPages.Layout(title, active, body, node.NodeName ?? string.Empty), Html);
}
