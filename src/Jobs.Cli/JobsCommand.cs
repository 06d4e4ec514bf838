using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Jobs.Client;
using Jobs.Client.Http;
using Spectre.Console;

namespace Jobs.Cli;

/// <summary>Exit codes scripts can rely on.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>An unexpected failure.</summary>
    public const int Failure = 1;

    /// <summary>Bad command line or a request the node rejected as invalid (400, 413).</summary>
    public const int Invalid = 2;

    /// <summary>No such job (404).</summary>
    public const int NotFound = 3;

    /// <summary>The job's status does not allow the operation (409).</summary>
    public const int Conflict = 4;

    /// <summary>The node could not be reached, or answered that it is unavailable (503, timeouts).</summary>
    public const int Unavailable = 5;

    /// <summary>Missing or wrong API key (401, 403).</summary>
    public const int Unauthorized = 6;
}

/// <summary>The <c>jobs</c> command line: every IJobsClient call against a node over HTTP.</summary>
public static class JobsCommand
{
    private static readonly JsonSerializerOptions Indented = new(JobsWire.Options) { WriteIndented = true };

    /// <summary>Parses <paramref name="args"/>, runs the command and returns its exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var url = new Option<string>("--url")
        {
            Description = "The node's address (or JOBS_URL)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("JOBS_URL") is { Length: > 0 } u ? u : "http://127.0.0.1:5080",
            Recursive = true,
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "API key, when the node requires one (or JOBS_API_KEY)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("JOBS_API_KEY"),
            Recursive = true,
        };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables (for scripts)", Recursive = true };
        var root = new RootCommand("Schedule, inspect, watch and control jobs on a Jobs node.") { url, apiKey, json };

        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
            }
        );
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 200; // piped into a file or another program: do not wrap tables at 80 columns
        }

        Context Make(ParseResult p) => new(p.GetValue(url)!, p.GetValue(apiKey), p.GetValue(json), output, console);

        // schedule
        var kind = new Argument<string>("kind") { Description = "The job kind" };
        var payload = new Argument<string?>("payload")
        {
            Description = "The payload: JSON text, or @file to read it from a file",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var at = new Option<DateTimeOffset?>("--at") { Description = "Run at this time (ISO 8601)" };
        var inOption = new Option<string?>("--in") { Description = "Run after this delay (30s, 5m, 2h, 1d, or hh:mm:ss)" };
        var id = new Option<string?>("--id") { Description = "Your job id (scheduling it again returns the existing job)" };
        var priority = new Option<int>("--priority") { Description = "Higher runs first among due jobs" };
        var queue = new Option<string?>("--queue") { Description = "The queue to run on" };
        var retries = new Option<int?>("--retries") { Description = "Attempts before the job fails (-1 unlimited)" };
        var timeout = new Option<string?>("--timeout") { Description = "How long one attempt may run (30s, 5m, ...)" };
        var every = new Option<string?>("--every") { Description = "Recurring: every interval (30s, 5m, 1h); makes a recurring schedule" };
        var cron = new Option<string?>("--cron")
        {
            Description = "Recurring: a cron expression (5 or 6 fields, @daily, @every 10s); makes a recurring schedule",
        };
        var zone = new Option<string?>("--zone") { Description = "Recurring: the IANA time zone cron times are read in (default UTC)" };
        var name = new Option<string?>("--name") { Description = "Recurring: the schedule's name (default: the kind); setting it again replaces it" };
        var unique = new Option<string?>("--unique") { Description = "A unique key: at most one active job of this kind per key" };
        var uniqueFor = new Option<string?>("--unique-for") { Description = "With --unique: the key stays taken this long after the job finished" };
        var onConflict = new Option<string?>("--on-conflict")
        {
            Description = "With --unique: existing (default: return the existing job), reject, or replace",
        };
        var schedule = new Command("schedule", "Schedule a job, or a recurring schedule with --every or --cron")
        {
            kind,
            payload,
            at,
            inOption,
            id,
            priority,
            queue,
            retries,
            timeout,
            every,
            cron,
            zone,
            name,
            unique,
            uniqueFor,
            onConflict,
        };
        schedule.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    if (p.GetValue(every) is not null || p.GetValue(cron) is not null)
                    {
                        if (
                            p.GetValue(at) is not null
                            || p.GetValue(inOption) is not null
                            || p.GetValue(id) is not null
                            || p.GetValue(unique) is not null
                        )
                        {
                            throw new JobValidationException("--every", "a recurring schedule takes no --at, --in, --id or --unique");
                        }

                        var recurring = await c
                            .Client.SetRecurringAsync(
                                new RecurringScheduleRequest
                                {
                                    Name = p.GetValue(name) ?? p.GetValue(kind)!,
                                    Kind = p.GetValue(kind)!,
                                    Payload = ReadPayload(p.GetValue(payload)),
                                    Every = p.GetValue(every) is { } e ? ParseDuration(e, "--every") : null,
                                    Cron = p.GetValue(cron),
                                    TimeZone = p.GetValue(zone),
                                    Priority = p.GetValue(priority),
                                    Queue = p.GetValue(queue),
                                    MaxAttempts = p.GetValue(retries),
                                    Timeout = p.GetValue(timeout) is { } rt ? ParseDuration(rt, "--timeout") : null,
                                },
                                ct
                            )
                            .ConfigureAwait(false);
                        c.Print(recurring, () =>
                            c.Console.MarkupLineInterpolated($"recurring {recurring.Name}: next {Time(recurring.NextOccurrence)}")
                        );
                        return;
                    }

                    if (p.GetValue(zone) is not null || p.GetValue(name) is not null)
                    {
                        throw new JobValidationException("--zone", "--zone and --name need --every or --cron");
                    }

                    var request = new ScheduleRequest
                    {
                        Kind = p.GetValue(kind)!,
                        Payload = ReadPayload(p.GetValue(payload)),
                        RunAt = p.GetValue(at),
                        Delay = p.GetValue(inOption) is { } d ? ParseDuration(d, "--in") : null,
                        JobId = p.GetValue(id),
                        Priority = p.GetValue(priority),
                        Queue = p.GetValue(queue),
                        MaxAttempts = p.GetValue(retries),
                        Timeout = p.GetValue(timeout) is { } t ? ParseDuration(t, "--timeout") : null,
                        UniqueKey = p.GetValue(unique),
                        UniquePeriod = p.GetValue(uniqueFor) is { } u ? ParseDuration(u, "--unique-for") : null,
                        OnConflict = p.GetValue(onConflict) switch
                        {
                            null or "existing" => UniqueConflict.ReturnExisting,
                            "reject" => UniqueConflict.Reject,
                            "replace" => UniqueConflict.Replace,
                            var other => throw new JobValidationException("--on-conflict", $"must be existing, reject or replace, not '{other}'"),
                        },
                    };
                    var result = await c.Client.ScheduleAsync(request, ct).ConfigureAwait(false);
                    c.Print(result, () =>
                        c.Console.MarkupLineInterpolated(
                            $"{(result.Replaced ? "replaced" : result.AlreadyExisted ? "exists" : "scheduled")} {result.JobId}"
                        )
                    );
                }));

        // schedule-many
        var file = new Argument<FileInfo>("file")
        {
            Description = "A JSON Lines file: one schedule request per line ({\"kind\":...,\"payload\":...})",
        };
        var chunk = new Option<int>("--chunk") { Description = "Requests per batch call", DefaultValueFactory = _ => 1000 };
        var many = new Command("schedule-many", "Schedule every request of a JSON Lines file, in batches") { file, chunk };
        many.SetAction(
            (p, ct) => Guard(Make(p), async c => await ScheduleManyAsync(c, p.GetValue(file)!, p.GetValue(chunk), ct).ConfigureAwait(false))
        );

        // get / status
        var jobId = new Argument<string>("id") { Description = "The job id" };
        var get = new Command("get", "Show a job with its attempts") { jobId };
        get.Aliases.Add("status");
        get.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var info = await c.Client.GetAsync(p.GetValue(jobId)!, ct).ConfigureAwait(false);
                    c.Print(info, () => PrintJob(c.Console, info));
                }));

        // list
        var status = new Option<JobStatus?>("--status") { Description = "Only jobs in this status" };
        var kindFilter = new Option<string?>("--kind") { Description = "Only jobs of this kind" };
        var queueFilter = new Option<string?>("--queue") { Description = "Only jobs on this queue" };
        var limit = new Option<int>("--limit") { Description = "Jobs per page", DefaultValueFactory = _ => 50 };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after a previous page" };
        var list = new Command("list", "List jobs, highest priority first") { status, kindFilter, queueFilter, limit, cursor };
        list.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var page = await c
                        .Client.ListAsync(
                            new JobQuery
                            {
                                Status = p.GetValue(status),
                                Kind = p.GetValue(kindFilter),
                                Queue = p.GetValue(queueFilter),
                                Limit = p.GetValue(limit),
                                Cursor = p.GetValue(cursor),
                            },
                            ct
                        )
                        .ConfigureAwait(false);
                    c.Print(page, () =>
                    {
                        var table = new Table().AddColumns("id", "kind", "queue", "priority", "status", "due", "attempts");
                        foreach (var item in page.Items)
                        {
                            table.AddRow(
                                Markup.Escape(item.Id),
                                Markup.Escape(item.Kind),
                                Markup.Escape(item.Queue),
                                Invariant(item.Priority),
                                item.Status.ToString(),
                                item.DueAt.ToString("u", CultureInfo.InvariantCulture),
                                Invariant(item.AttemptCount)
                            );
                        }

                        c.Console.Write(table);
                        if (page.NextCursor is { } next)
                        {
                            c.Console.MarkupLineInterpolated($"more: --cursor {next}");
                        }
                    });
                }));

        // count
        var countKind = new Option<string?>("--kind") { Description = "Only jobs of this kind" };
        var countQueue = new Option<string?>("--queue") { Description = "Only jobs on this queue" };
        var count = new Command("count", "Count jobs by status") { countKind, countQueue };
        count.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var counts = await c
                        .Client.CountAsync(new JobQuery { Kind = p.GetValue(countKind), Queue = p.GetValue(countQueue) }, ct)
                        .ConfigureAwait(false);
                    c.Print(counts, () =>
                    {
                        var table = new Table().AddColumns("status", "jobs");
                        foreach (var (s, n) in counts.OrderBy(kv => kv.Key))
                        {
                            table.AddRow(s.ToString(), n.ToString(CultureInfo.InvariantCulture));
                        }

                        c.Console.Write(table);
                    });
                }));

        // cancel / destroy / reschedule
        var cancelId = new Argument<string>("id") { Description = "The job id" };
        var cancel = new Command("cancel", "Cancel a job (a running handler's token is cancelled)") { cancelId };
        cancel.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    await c.Client.CancelAsync(p.GetValue(cancelId)!, ct).ConfigureAwait(false);
                    c.Print(new { cancelled = p.GetValue(cancelId) }, () => c.Console.MarkupLineInterpolated($"cancelled {p.GetValue(cancelId)}"));
                }));
        var retryId = new Argument<string>("id") { Description = "The job id" };
        var retry = new Command("retry", "Run a failed or cancelled job again, its attempts renewed") { retryId };
        retry.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    await c.Client.RetryAsync(p.GetValue(retryId)!, ct).ConfigureAwait(false);
                    c.Print(new { retried = p.GetValue(retryId) }, () => c.Console.MarkupLineInterpolated($"retrying {p.GetValue(retryId)}"));
                }));
        var destroyId = new Argument<string>("id") { Description = "The job id" };
        var destroy = new Command("destroy", "Delete a job and its history") { destroyId };
        destroy.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    await c.Client.DestroyAsync(p.GetValue(destroyId)!, ct).ConfigureAwait(false);
                    c.Print(new { destroyed = p.GetValue(destroyId) }, () => c.Console.MarkupLineInterpolated($"destroyed {p.GetValue(destroyId)}"));
                }));
        var rescheduleId = new Argument<string>("id") { Description = "The job id" };
        var rescheduleAt = new Option<DateTimeOffset?>("--at") { Description = "The new time (ISO 8601)" };
        var rescheduleIn = new Option<string?>("--in") { Description = "The new time as a delay from now (30s, 5m, ...)" };
        var reschedule = new Command("reschedule", "Move a waiting job to another time") { rescheduleId, rescheduleAt, rescheduleIn };
        reschedule.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var when = p.GetValue(rescheduleAt)
                        ?? (
                            p.GetValue(rescheduleIn) is { } d
                                ? DateTimeOffset.UtcNow + ParseDuration(d, "--in")
                                : throw new JobValidationException("--at", "give --at or --in")
                        );
                    await c.Client.RescheduleAsync(p.GetValue(rescheduleId)!, when, ct).ConfigureAwait(false);
                    c.Print(new { rescheduled = p.GetValue(rescheduleId), runAt = when }, () =>
                        c.Console.MarkupLineInterpolated($"rescheduled {p.GetValue(rescheduleId)} to {when:u}")
                    );
                }));

        // watch
        var watchId = new Argument<string?>("id")
        {
            Description = "One job (until it finishes); without it, every transition matching the filters",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var watchStatus = new Option<JobStatus?>("--status") { Description = "Only transitions into this status" };
        var watchKind = new Option<string?>("--kind") { Description = "Only jobs of this kind" };
        var watchQueue = new Option<string?>("--queue") { Description = "Only jobs on this queue" };
        var watch = new Command("watch", "Print job transitions live (Ctrl+C to stop)") { watchId, watchStatus, watchKind, watchQueue };
        watch.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var query = new WatchQuery
                    {
                        JobId = p.GetValue(watchId),
                        Status = p.GetValue(watchStatus),
                        Kind = p.GetValue(watchKind),
                        Queue = p.GetValue(watchQueue),
                    };
                    await foreach (var t in c.Client.WatchAsync(query, ct).ConfigureAwait(false))
                    {
                        if (c.Json)
                        {
                            c.Output.WriteLine(JsonSerializer.Serialize(t, JobsWire.Options));
                        }
                        else
                        {
                            c.Console.MarkupLineInterpolated(
                                $"{t.At:HH:mm:ss.fff} {t.JobId} {t.Kind} {t.Change} -> {t.Status}{(t.Outcome is { } o ? $" ({o})" : string.Empty)}"
                            );
                        }

                        await c.Output.FlushAsync(ct).ConfigureAwait(false);
                    }
                }));

        // nodes
        var nodes = new Command("nodes", "Show the cluster's members and the node answering at --url with its statistics");
        nodes.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var node = await c.Client.GetNodeAsync(ct).ConfigureAwait(false);
                    var members = await c.Client.GetMembersAsync(ct).ConfigureAwait(false);
                    c.Print(new { node, members }, () =>
                    {
                        var table = new Table().AddColumns("member", "status", "reachable", "scheduler", "shards", "jobs", "running");
                        foreach (var m in members)
                        {
                            table.AddRow(
                                Markup.Escape(m.Address + (m.Self ? " (this node)" : string.Empty)),
                                m.Status,
                                m.Reachable ? "yes" : "NO",
                                m.Scheduler ? "yes" : string.Empty,
                                m.Shards is { } shards ? Invariant(shards) : "?",
                                m.Jobs is { } jobs ? Invariant(jobs) : "?",
                                m.Running is { } running ? Invariant(running) : "?"
                            );
                        }

                        c.Console.Write(table);
                        var grid = new Grid().AddColumns(2);
                        foreach (
                            var (name, value) in new (string, string)[]
                            {
                                ("node", node.Node),
                                ("started", node.StartedAt.ToString("u", CultureInfo.InvariantCulture)),
                                ("scheduled", Invariant(node.Scheduled)),
                                ("started jobs", Invariant(node.Started)),
                                ("succeeded", Invariant(node.Succeeded)),
                                ("failed", Invariant(node.Failed)),
                                ("retried", Invariant(node.Retried)),
                                ("timed out", Invariant(node.TimedOut)),
                                ("recovered", Invariant(node.Recovered)),
                                ("cancelled", Invariant(node.Cancelled)),
                            }
                        )
                        {
                            grid.AddRow(new Text(name), new Text(value));
                        }

                        c.Console.Write(grid);
                    });
                }));

        // recurring
        var recurringName = new Argument<string>("name") { Description = "The recurring schedule's name" };
        var recurringCommand = new Command("recurring", "List recurring schedules; get, pause, resume or delete one");
        recurringCommand.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var all = await c.Client.ListRecurringAsync(ct).ConfigureAwait(false);
                    c.Print(all, () =>
                    {
                        var table = new Table().AddColumns("name", "kind", "schedule", "state", "previous", "next", "runs", "skipped", "missed");
                        foreach (var s in all)
                        {
                            table.AddRow(
                                s.Name,
                                s.Kind,
                                Describe(s),
                                s.State.ToString(),
                                Time(s.PreviousOccurrence),
                                Time(s.NextOccurrence),
                                Invariant(s.SuccessfulRuns),
                                Invariant(s.Skipped),
                                Invariant(s.Missed)
                            );
                        }

                        c.Console.Write(table);
                    });
                }));
        foreach (
            var (verb, help) in new[]
            {
                ("get", "Show a recurring schedule"),
                ("pause", "Pause a recurring schedule"),
                ("resume", "Resume a paused recurring schedule"),
                ("delete", "Delete a recurring schedule (its jobs stay)"),
            }
        )
        {
            var sub = new Command(verb, help) { recurringName };
            sub.SetAction((p, ct) => Guard(Make(p), async c =>
                    {
                        var target = p.GetValue(recurringName)!;
                        switch (verb)
                        {
                            case "pause":
                                await c.Client.PauseRecurringAsync(target, ct).ConfigureAwait(false);
                                break;
                            case "resume":
                                await c.Client.ResumeRecurringAsync(target, ct).ConfigureAwait(false);
                                break;
                            case "delete":
                                await c.Client.DeleteRecurringAsync(target, ct).ConfigureAwait(false);
                                c.Print(new { deleted = target }, () => c.Console.MarkupLineInterpolated($"deleted {target}"));
                                return;
                        }

                        var info = await c.Client.GetRecurringAsync(target, ct).ConfigureAwait(false);
                        c.Print(info, () =>
                        {
                            var grid = new Grid().AddColumns(2);
                            foreach (
                                var (field, value) in new (string, string)[]
                                {
                                    ("name", info.Name),
                                    ("kind", info.Kind),
                                    ("schedule", Describe(info)),
                                    ("state", info.State.ToString()),
                                    ("overlap", info.Overlap.ToString()),
                                    ("previous", Time(info.PreviousOccurrence)),
                                    ("previous job", info.PreviousJobId ?? "-"),
                                    ("next", Time(info.NextOccurrence)),
                                    ("running", info.Running ? "yes" : "no"),
                                    (
                                        "successful runs",
                                        Invariant(info.SuccessfulRuns) + (info.Limit is { } l ? " of " + Invariant(l) : string.Empty)
                                    ),
                                    ("skipped", Invariant(info.Skipped)),
                                    ("missed", Invariant(info.Missed)),
                                }
                            )
                            {
                                grid.AddRow(new Text(field), new Text(value));
                            }

                            c.Console.Write(grid);
                        });
                    }));
            recurringCommand.Subcommands.Add(sub);
        }

        // queues
        var queueName = new Argument<string>("queue") { Description = "The queue" };
        var queues = new Command("queues", "List queues; pause or resume one");
        queues.SetAction((p, ct) => Guard(Make(p), async c =>
                {
                    var all = await c.Client.ListQueuesAsync(ct).ConfigureAwait(false);
                    c.Print(all, () =>
                    {
                        var table = new Table().AddColumns("queue", "workers", "running", "queued", "scheduled", "order", "paused");
                        foreach (var q in all)
                        {
                            table.AddRow(
                                q.Name,
                                Invariant(q.Workers),
                                Invariant(q.Running),
                                Invariant(q.Queued),
                                Invariant(q.Scheduled),
                                q.Order.ToString(),
                                q.Paused ? "yes" : "no"
                            );
                        }

                        c.Console.Write(table);
                    });
                }));
        foreach (var verb in new[] { "pause", "resume" })
        {
            var sub = new Command(verb, verb == "pause" ? "Pause a queue: due jobs wait, running jobs finish" : "Resume a paused queue")
            {
                queueName,
            };
            sub.SetAction((p, ct) => Guard(Make(p), async c =>
                    {
                        var target = p.GetValue(queueName)!;
                        await (verb == "pause" ? c.Client.PauseQueueAsync(target, ct) : c.Client.ResumeQueueAsync(target, ct)).ConfigureAwait(false);
                        c.Print(new { queue = target, paused = verb == "pause" }, () => c.Console.MarkupLineInterpolated($"{verb}d {target}"));
                    }));
            queues.Subcommands.Add(sub);
        }

        foreach (
            var command in new[] { schedule, many, get, list, count, cancel, retry, reschedule, destroy, watch, nodes, recurringCommand, queues }
        )
        {
            root.Subcommands.Add(command);
        }

        // No response files: "@file" is this tool's way to pass a payload from a file.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync("jobs: " + parseError.Message).ConfigureAwait(false);
            }

            await error.WriteLineAsync("Run 'jobs --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Invalid;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).ConfigureAwait(false);

        Task<int> Guard(Context context, Func<Context, Task> action) => RunGuardedAsync(context, action, error);
    }

    private static async Task<int> RunGuardedAsync(Context context, Func<Context, Task> action, TextWriter error)
    {
        try
        {
            await action(context).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Ok; // Ctrl+C on watch
        }
        catch (JobsException ex)
        {
            await error.WriteLineAsync($"jobs: {Describe(ex, context.Url)}").ConfigureAwait(false);
            return ex switch
            {
                JobValidationException => ExitCodes.Invalid,
                JobNotFoundException or RecurringNotFoundException => ExitCodes.NotFound,
                JobStateConflictException or DuplicateJobException or JobKindConflictException => ExitCodes.Conflict,
                _ when ex.ErrorCode is "unauthorized" or "forbidden" => ExitCodes.Unauthorized,
                _ when ex.ErrorCode is "unavailable" or "timeout" or "storage-failure" or "rate-limited" => ExitCodes.Unavailable,
                _ when ex.ErrorCode is "bad-request" or "unsupported-media-type" => ExitCodes.Invalid,
                _ => ExitCodes.Failure,
            };
        }
        catch (Exception ex) when (ex is FormatException or IOException or JsonException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"jobs: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Invalid;
        }
    }

    private static string Describe(JobsException ex, string url) =>
        ex.ErrorCode switch
        {
            "unavailable" => $"cannot reach a Jobs node at {url} ({ex.Message}). Is the node running? Set --url or JOBS_URL.",
            "unauthorized" => $"the node at {url} needs an API key: pass --api-key or set JOBS_API_KEY.",
            "forbidden" => $"the node at {url} refused this API key.",
            _ => ex.Message,
        };

    private static async Task ScheduleManyAsync(Context c, FileInfo file, int chunk, CancellationToken ct)
    {
        if (chunk is < 1 or > 10_000)
        {
            throw new JobValidationException("--chunk", "must be 1 to 10000");
        }

        var lines = await File.ReadAllLinesAsync(file.FullName, ct).ConfigureAwait(false);
        var requests = new List<ScheduleRequest>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            ScheduleBody body;
            try
            {
                body = JsonSerializer.Deserialize<ScheduleBody>(lines[i], JobsWire.Options) ?? throw new JsonException("null");
            }
            catch (JsonException ex)
            {
                throw new JobValidationException($"{file.Name}:{i + 1}", $"not a schedule request: {ex.Message}");
            }

            requests.Add(body.ToRequest());
        }

        var scheduled = 0;
        var failed = new List<(int Line, string Error)>();
        async Task SendAsync(Action<int>? progress)
        {
            for (var start = 0; start < requests.Count; start += chunk)
            {
                var batch = requests.GetRange(start, Math.Min(chunk, requests.Count - start));
                foreach (var item in await c.Client.ScheduleManyAsync(batch, ct).ConfigureAwait(false))
                {
                    if (item.Error is { } e)
                    {
                        failed.Add((start + item.Index + 1, e.Message));
                    }
                    else
                    {
                        scheduled++;
                    }
                }

                progress?.Invoke(batch.Count);
            }
        }

        if (c.Json)
        {
            await SendAsync(null).ConfigureAwait(false);
        }
        else
        {
            await c
                .Console.Progress()
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("scheduling", maxValue: Math.Max(requests.Count, 1));
                    await SendAsync(n => task.Increment(n)).ConfigureAwait(false);
                })
                .ConfigureAwait(false);
        }

        c.Print(new { scheduled, failed = failed.Select(f => new { request = f.Line, error = f.Error }) }, () =>
        {
            c.Console.MarkupLineInterpolated($"scheduled {scheduled}, failed {failed.Count}");
            foreach (var (line, message) in failed)
            {
                c.Console.MarkupLineInterpolated($"  request {line}: {message}");
            }
        });
        if (failed.Count > 0)
        {
            throw new JobsException("partial-failure", $"{failed.Count} of {requests.Count} requests failed");
        }
    }

    private static void PrintJob(IAnsiConsole console, JobInfo info)
    {
        var grid = new Grid().AddColumns(2);
        void Row(string name, string? value) => grid.AddRow(new Text(name), new Text(value ?? "-"));
        Row("id", info.Id);
        Row("kind", info.Kind);
        Row("queue", info.Queue);
        Row("status", info.Status.ToString());
        Row("priority", Invariant(info.Priority));
        Row("due", info.DueAt.ToString("u", CultureInfo.InvariantCulture));
        Row("attempts", $"{info.AttemptCount} of {(info.MaxAttempts < 0 ? "unlimited" : Invariant(info.MaxAttempts))}");
        Row("last error", info.LastError);
        Row("payload", info.Payload.ValueKind == JsonValueKind.Undefined ? null : JsonSerializer.Serialize(info.Payload));
        Row("result", info.Result is { } r ? JsonSerializer.Serialize(r) : null);
        console.Write(grid);
        if (info.Attempts.Count > 0)
        {
            var table = new Table().AddColumns("#", "node", "started", "ended", "outcome", "error");
            foreach (var a in info.Attempts)
            {
                table.AddRow(
                    Invariant(a.Number),
                    Markup.Escape(a.Node),
                    a.StartedAt.ToString("u", CultureInfo.InvariantCulture),
                    a.EndedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-",
                    a.Outcome.ToString(),
                    Markup.Escape(a.Error ?? string.Empty)
                );
            }

            console.Write(table);
        }
    }

    private static JsonElement? ReadPayload(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var json = text.StartsWith('@') ? File.ReadAllText(text[1..]) : text;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new JobValidationException("payload", $"is not JSON: {ex.Message}");
        }
    }

    /// <summary>Parses 500ms, 30s, 5m, 2h, 1d or a TimeSpan (hh:mm:ss).</summary>
    public static TimeSpan ParseDuration(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var units = new (string Suffix, double Ms)[] { ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000) };
        foreach (var (suffix, ms) in units)
        {
            if (
                text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                && double.IsFinite(n)
            )
            {
                return n * ms is var total && Math.Abs(total) < TimeSpan.MaxValue.TotalMilliseconds / 2
                    ? TimeSpan.FromMilliseconds(total)
                    : throw new JobValidationException(option, $"'{text}' is out of range");
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span)
            ? span
            : throw new JobValidationException(option, $"'{text}' is not a duration (for example 30s, 5m, 2h, 1d or 00:05:00)");
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset? value) => value?.ToString("u", CultureInfo.InvariantCulture) ?? "-";

    private static string Describe(RecurringScheduleInfo s) =>
        s.Cron is { } c ? $"cron {c} ({s.TimeZone})"
        : s.Every is { } e ? $"every {e}"
        : $"named {s.Named} ({s.TimeZone})";

    /// <summary>What one invocation needs: the client and how to print.</summary>
    private sealed class Context(string url, string? apiKey, bool json, TextWriter output, IAnsiConsole console)
    {
        private HttpJobsClient? _client;

        public string Url { get; } = url;

        public bool Json { get; } = json;

        public TextWriter Output { get; } = output;

        public IAnsiConsole Console { get; } = console;

        public HttpJobsClient Client =>
            _client ??= new HttpJobsClient(
                new HttpClient
                {
                    BaseAddress = Uri.TryCreate(Url.EndsWith('/') ? Url : Url + "/", UriKind.Absolute, out var uri)
                        ? uri
                        : throw new JobValidationException("--url", $"'{Url}' is not an absolute URL"),
                    Timeout = Timeout.InfiniteTimeSpan,
                },
                new HttpJobsClientOptions { ApiKey = apiKey, MaxRetries = 2 }
            );

        public void Print<T>(T value, Action human)
        {
            if (Json)
            {
                Output.WriteLine(JsonSerializer.Serialize(value, Indented));
            }
            else
            {
                human();
            }
        }
    }
}
