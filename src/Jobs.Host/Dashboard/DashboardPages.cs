using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Client;

namespace Jobs.Host.Dashboard;

/// <summary>Server-rendered HTML of the dashboard. Every value goes through <see cref="H"/> (HTML-encoded), never raw.</summary>
internal static class DashboardPages
{
    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
        header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center}
        header a{color:#cfd6e4;text-decoration:none}header a.on{color:#fff;font-weight:600}
        main{padding:16px 20px}table{border-collapse:collapse;background:#fff;width:100%;margin:8px 0 16px}
        th,td{border-bottom:1px solid #e3e6eb;padding:5px 8px;text-align:left;vertical-align:top}th{background:#eef0f4}
        pre{background:#fff;border:1px solid #e3e6eb;padding:8px;overflow:auto;max-height:360px;white-space:pre-wrap}
        .cards{display:flex;gap:10px;flex-wrap:wrap}.card{background:#fff;border:1px solid #e3e6eb;padding:8px 14px;min-width:110px}
        .card b{display:block;font-size:22px}form.inline{display:inline}button{cursor:pointer;margin:2px}
        .s-failed{color:#b42318}.s-succeeded{color:#067647}.s-running{color:#175cd3}.muted{color:#667085}
        svg{background:#fff;border:1px solid #e3e6eb}
        """;

    /// <summary>HTML-encodes any value for text and attribute positions.</summary>
    public static string H(object? value) => HtmlEncoder.Default.Encode(value switch
    {
        null => string.Empty,
        DateTimeOffset t => t.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    });

    public static string Layout(string title, string active, string body, string node) =>
        $$"""
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{H(title)}} · Jobs</title>
        <meta name="viewport" content="width=device-width,initial-scale=1"><style>{{Style}}</style></head>
        <body><header><strong>Jobs</strong>{{Nav("overview", "/dashboard", active)}}{{Nav("jobs", "/dashboard/jobs", active)}}{{Nav("recurring", "/dashboard/recurring", active)}}{{Nav("queues", "/dashboard/queues", active)}}{{Nav("nodes", "/dashboard/nodes", active)}}<span class="muted" style="margin-left:auto">node {{H(node)}}</span></header>
        <main><h2>{{H(title)}}</h2>{{body}}</main></body></html>
        """;

    public static string Overview(IReadOnlyList<QueueInfo> queues, IReadOnlyDictionary<string, IReadOnlyDictionary<JobStatus, long>> countsByQueue, IReadOnlyList<(double Throughput, double LatencyMs)> samples)
    {
        var b = new StringBuilder();
        var totals = Enum.GetValues<JobStatus>().ToDictionary(s => s, s => countsByQueue.Values.Sum(c => c[s]));
        b.Append("<div class=\"cards\">");
        foreach (var (status, count) in totals)
        {
            b.Append($"<div class=\"card\"><span class=\"s-{H(Lower(status))}\">{H(status)}</span><b id=\"count-{H(Lower(status))}\">{H(count)}</b></div>");
        }

        b.Append("</div><h3>By queue</h3><table><tr><th>queue</th>");
        foreach (var status in Enum.GetValues<JobStatus>())
        {
            b.Append($"<th>{H(Lower(status))}</th>");
        }

        b.Append("<th>paused</th></tr>");
        foreach (var q in queues)
        {
            b.Append($"<tr><td><a href=\"/dashboard/jobs?queue={Url(q.Name)}\">{H(q.Name)}</a></td>");
            foreach (var status in Enum.GetValues<JobStatus>())
            {
                b.Append($"<td>{H(countsByQueue[q.Name][status])}</td>");
            }

            b.Append($"<td>{(q.Paused ? "paused" : string.Empty)}</td></tr>");
        }

        b.Append("</table><h3>Last three minutes</h3><div class=\"cards\">");
        b.Append($"<div>jobs finished per second<br>{Chart("throughput", samples.Select(s => s.Throughput).ToList())}</div>");
        b.Append($"<div>schedule-to-start latency, median ms<br>{Chart("latency", samples.Select(s => s.LatencyMs).ToList())}</div></div>");
        // Live: counts and charts follow the node's event stream (no build step, no framework).
        b.Append("""
            <p class="muted" id="live">live</p>
            <script>
            const source = new EventSource('/dashboard/live');
            source.addEventListener('stats', e => {
              const d = JSON.parse(e.data);
              for (const [status, n] of Object.entries(d.counts)) { const el = document.getElementById('count-' + status); if (el) el.textContent = n; }
              for (const name of ['throughput', 'latency']) { const el = document.getElementById('chart-' + name); if (el) el.setAttribute('points', d[name]); }
              document.getElementById('live').textContent = 'live · updated ' + new Date().toLocaleTimeString();
            });
            </script>
            """);
        return b.ToString();
    }

    /// <summary>A small line chart as inline SVG; the polyline's points are what the live stream replaces.</summary>
    public static string Chart(string name, IReadOnlyList<double> values) =>
        $"<svg width=\"360\" height=\"90\" viewBox=\"0 0 360 90\" role=\"img\" aria-label=\"{H(name)}\"><polyline id=\"chart-{H(name)}\" fill=\"none\" stroke=\"#175cd3\" stroke-width=\"2\" points=\"{H(Points(values))}\"/></svg>";

    public static string Points(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return string.Empty;
        }

        var max = Math.Max(values.Max(), 1e-9);
        var step = 360.0 / Math.Max(DashboardSampler.Capacity - 1, 1);
        var offset = DashboardSampler.Capacity - values.Count;
        return string.Join(' ', values.Select((v, i) => string.Create(CultureInfo.InvariantCulture, $"{(offset + i) * step:0.#},{85 - (v / max * 80):0.#}")));
    }

    public static string JobList(JobPage page, JobQuery query, string? search, string csrf, bool canAct)
    {
        var b = new StringBuilder();
        b.Append("<form method=\"get\" action=\"/dashboard/jobs\">status <select name=\"status\"><option value=\"\">any</option>");
        foreach (var status in Enum.GetValues<JobStatus>())
        {
            b.Append($"<option{(query.Status == status ? " selected" : string.Empty)}>{H(Lower(status))}</option>");
        }

        b.Append($"</select> kind <input name=\"kind\" value=\"{H(query.Kind)}\" size=\"12\"> queue <input name=\"queue\" value=\"{H(query.Queue)}\" size=\"10\"> id <input name=\"q\" value=\"{H(search)}\" size=\"24\"> <button>filter</button></form>");
        if (query.Status == JobStatus.Failed && canAct)
        {
            b.Append($"<form method=\"post\" action=\"/dashboard/jobs/retry-failed\" class=\"inline\">{Csrf(csrf)}<input type=\"hidden\" name=\"kind\" value=\"{H(query.Kind)}\"><input type=\"hidden\" name=\"queue\" value=\"{H(query.Queue)}\"><button>retry every failed job shown by this filter</button></form>");
        }

        b.Append("<table><tr><th>id</th><th>kind</th><th>queue</th><th>priority</th><th>status</th><th>due</th><th>attempts</th><th>updated</th></tr>");
        foreach (var j in page.Items)
        {
            b.Append($"<tr><td><a href=\"/dashboard/jobs/{Url(j.Id)}\">{H(j.Id)}</a></td><td>{H(j.Kind)}</td><td>{H(j.Queue)}</td><td>{H(j.Priority)}</td><td class=\"s-{H(Lower(j.Status))}\">{H(j.Status)}</td><td>{H(j.DueAt)}</td><td>{H(j.AttemptCount)}</td><td>{H(j.UpdatedAt)}</td></tr>");
        }

        b.Append("</table>");
        if (page.NextCursor is { } next)
        {
            b.Append($"<a href=\"/dashboard/jobs?status={Url(query.Status is { } s ? Lower(s) : string.Empty)}&kind={Url(query.Kind ?? string.Empty)}&queue={Url(query.Queue ?? string.Empty)}&cursor={Url(next)}\">next page</a>");
        }

        return b.ToString();
    }

    public static string Job(JobInfo job, IReadOnlyList<string> redactKeys, string csrf, bool canAct)
    {
        var b = new StringBuilder();
        b.Append($"<table><tr><th>id</th><td>{H(job.Id)}</td></tr><tr><th>kind</th><td>{H(job.Kind)}</td></tr><tr><th>queue</th><td>{H(job.Queue)}</td></tr>");
        b.Append($"<tr><th>status</th><td class=\"s-{H(Lower(job.Status))}\" id=\"status\">{H(job.Status)}</td></tr><tr><th>priority</th><td>{H(job.Priority)}</td></tr>");
        b.Append($"<tr><th>due</th><td>{H(job.DueAt)}</td></tr><tr><th>attempts</th><td>{H(job.AttemptCount)} of {(job.MaxAttempts < 0 ? "unlimited" : H(job.MaxAttempts))}</td></tr>");
        b.Append($"<tr><th>last error</th><td>{H(job.LastError)}</td></tr><tr><th>revision</th><td>{H(job.Revision)}</td></tr></table>");
        if (canAct)
        {
            var id = Url(job.Id);
            if (job.Status is JobStatus.Scheduled or JobStatus.Queued or JobStatus.Running)
            {
                b.Append($"<form method=\"post\" action=\"/dashboard/jobs/{id}/cancel\" class=\"inline\">{Csrf(csrf)}<button id=\"cancel\">cancel</button></form>");
            }

            if (job.Status is JobStatus.Scheduled or JobStatus.Failed or JobStatus.Cancelled)
            {
                b.Append($"<form method=\"post\" action=\"/dashboard/jobs/{id}/run-now\" class=\"inline\">{Csrf(csrf)}<button id=\"run-now\">run now</button></form>");
            }

            if (job.Status is JobStatus.Scheduled or JobStatus.Queued)
            {
                b.Append($"<form method=\"post\" action=\"/dashboard/jobs/{id}/reschedule\" class=\"inline\">{Csrf(csrf)}<input type=\"datetime-local\" name=\"at\" required> UTC <button>reschedule</button></form>");
            }

            b.Append($"<form method=\"post\" action=\"/dashboard/jobs/{id}/delete\" class=\"inline\" onsubmit=\"return confirm('Delete this job and its history?')\">{Csrf(csrf)}<button id=\"delete\">delete</button></form>");
        }

        b.Append($"<h3>Payload</h3><pre id=\"payload\">{H(Pretty(job.Payload, redactKeys))}</pre>");
        if (job.Result is { } result)
        {
            b.Append($"<h3>Result</h3><pre>{H(Pretty(result, redactKeys))}</pre>");
        }

        b.Append("<h3>Attempts</h3><table><tr><th>#</th><th>node</th><th>started</th><th>ended</th><th>outcome</th><th>error</th></tr>");
        foreach (var a in job.Attempts)
        {
            b.Append($"<tr><td>{H(a.Number)}</td><td>{H(a.Node)}</td><td>{H(a.StartedAt)}</td><td>{H(a.EndedAt)}</td><td>{H(a.Outcome)}</td><td>{H(a.Error)}");
            if (a.StackTrace is { Length: > 0 } stack)
            {
                b.Append($"<details><summary>stack trace</summary><pre>{H(stack)}</pre></details>");
            }

            b.Append("</td></tr>");
        }

        b.Append("</table><h3>Timeline</h3><ul>");
        var timeline = new List<(DateTimeOffset At, string What)> { (job.CreatedAt, "scheduled for " + H(job.DueAt)) };
        foreach (var a in job.Attempts)
        {
            timeline.Add((a.StartedAt, $"attempt {H(a.Number)} started on {H(a.Node)}"));
            if (a.EndedAt is { } ended)
            {
                timeline.Add((ended, $"attempt {H(a.Number)} ended: {H(a.Outcome)}"));
            }
        }

        if (job.CompletedAt is { } completed)
        {
            timeline.Add((completed, "finished: " + H(job.Status)));
        }

        foreach (var (at, what) in timeline.OrderBy(t => t.At))
        {
            b.Append($"<li>{H(at)} · {what}</li>");
        }

        b.Append("</ul>");
        return b.ToString();
    }

    public static string Recurring(IReadOnlyList<RecurringScheduleInfo> schedules, string csrf, bool canAct)
    {
        var b = new StringBuilder("<table><tr><th>name</th><th>kind</th><th>schedule</th><th>state</th><th>last run</th><th>next run</th><th>now</th><th>runs</th><th>skipped</th><th>missed</th><th></th></tr>");
        foreach (var s in schedules)
        {
            var spec = s.Cron is { } c ? $"cron {c} ({s.TimeZone})" : s.Every is { } e ? $"every {e}" : $"named {s.Named} ({s.TimeZone})";
            var last = s.PreviousJobId is { } jobId ? $"<a href=\"/dashboard/jobs/{Url(jobId)}\">{H(s.PreviousOccurrence)}</a>" : "-";
            b.Append($"<tr><td>{H(s.Name)}</td><td>{H(s.Kind)}</td><td>{H(spec)}</td><td>{H(s.State)}</td><td>{last}</td><td>{H(s.NextOccurrence)}</td><td>{(s.Running ? "running" : "idle")}</td><td>{H(s.SuccessfulRuns)}</td><td>{H(s.Skipped)}</td><td>{H(s.Missed)}</td><td>");
            if (canAct && s.State != RecurringState.Completed)
            {
                var verb = s.State == RecurringState.Paused ? "resume" : "pause";
                b.Append($"<form method=\"post\" action=\"/dashboard/recurring/{Url(s.Name)}/{verb}\" class=\"inline\">{Csrf(csrf)}<button>{verb}</button></form>");
            }

            b.Append("</td></tr>");
        }

        return b.Append("</table>").ToString();
    }

    public static string Queues(IReadOnlyList<QueueInfo> queues, IReadOnlyDictionary<string, int> kindLimits, string csrf, bool canAct)
    {
        var b = new StringBuilder("<table><tr><th>queue</th><th>workers</th><th>running</th><th>queued</th><th>scheduled</th><th>order</th><th>state</th><th></th></tr>");
        foreach (var q in queues)
        {
            b.Append($"<tr><td>{H(q.Name)}</td><td>{H(q.Workers)}</td><td>{H(q.Running)}</td><td>{H(q.Queued)}</td><td>{H(q.Scheduled)}</td><td>{H(q.Order)}</td><td>{(q.Paused ? "paused" : "running")}</td><td>");
            if (canAct)
            {
                var verb = q.Paused ? "resume" : "pause";
                b.Append($"<form method=\"post\" action=\"/dashboard/queues/{Url(q.Name)}/{verb}\" class=\"inline\">{Csrf(csrf)}<button>{verb}</button></form>");
            }

            b.Append("</td></tr>");
        }

        b.Append("</table><h3>Caps per kind</h3><table><tr><th>kind</th><th>most running at once</th></tr>");
        foreach (var (kind, limit) in kindLimits.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            b.Append($"<tr><td>{H(kind)}</td><td>{H(limit)}</td></tr>");
        }

        return b.Append("</table>").ToString();
    }

    public static string Login(string? error) =>
        $"<form method=\"post\" action=\"/dashboard/login\"><p>{(error is null ? "This node requires an API key." : H(error))}</p><input type=\"password\" name=\"key\" autocomplete=\"current-password\" size=\"40\" autofocus> <button>log in</button></form>";

    /// <summary>Pretty JSON with values of secret-looking properties replaced by "***".</summary>
    public static string Pretty(JsonElement element, IReadOnlyList<string> redactKeys)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            return "null";
        }

        var node = JsonNode.Parse(element.GetRawText());
        Redact(node, redactKeys);
        return node?.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "null";
    }

    public static string Lower(JobStatus status) => status.ToString().ToLowerInvariant();

    private static void Redact(JsonNode? node, IReadOnlyList<string> keys)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (keys.Any(k => name.Contains(k, StringComparison.OrdinalIgnoreCase)))
                    {
                        obj[name] = "***";
                    }
                    else
                    {
                        Redact(obj[name], keys);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Redact(item, keys);
                }

                break;
        }
    }

    private static string Nav(string name, string href, string active) => $"<a href=\"{href}\"{(name == active ? " class=\"on\"" : string.Empty)}>{name}</a>";

    private static string Csrf(string token) => $"<input type=\"hidden\" name=\"{DashboardGuard.CsrfField}\" value=\"{H(token)}\">";

    private static string Url(string value) => Uri.EscapeDataString(value);
}
