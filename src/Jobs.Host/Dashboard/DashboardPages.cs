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
        :root{--ink:#1d2330;--muted:#667085;--line:#e3e6eb;--bg:#f6f7f9;--card:#fff;--accent:#175cd3;--bad:#b42318;--good:#067647}
        *{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink);background:var(--bg)}
        header{background:var(--ink);color:#fff;padding:10px 20px;display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center}
        header strong{font-size:16px;margin-right:8px}header a{color:#cfd6e4;text-decoration:none;padding:2px 0}
        header a.on{color:#fff;font-weight:600;border-bottom:2px solid #fff}header .node{margin-left:auto;color:#cfd6e4}
        main{padding:16px 20px;max-width:1280px}h2{margin:4px 0 12px}h3{margin:22px 0 8px}a{color:var(--accent)}
        .wrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:6px;margin:8px 0 16px}
        table{border-collapse:collapse;width:100%}.wrap table{margin:0}
        th,td{border-bottom:1px solid var(--line);padding:6px 10px;text-align:left;vertical-align:top;white-space:nowrap}
        th{background:#eef0f4;font-weight:600}td.wide{white-space:normal;min-width:220px}tr:last-child td{border-bottom:0}
        pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;max-height:360px;white-space:pre-wrap}
        .cards{display:flex;gap:10px;flex-wrap:wrap}
        .card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 16px;min-width:120px}
        .card b{display:block;font-size:24px}.card a{text-decoration:none;color:inherit}
        form.inline{display:inline}form.bar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:8px 0}
        button,.button{font:inherit;cursor:pointer;border:1px solid #c8ced8;background:#fff;color:var(--ink);border-radius:5px;
          padding:4px 12px;margin:2px;text-decoration:none;display:inline-block}
        button:hover,.button:hover{border-color:var(--accent);color:var(--accent)}button.danger{color:var(--bad)}
        button.danger:hover{border-color:var(--bad)}
        button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
        input,select{font:inherit;padding:3px 6px;border:1px solid #c8ced8;border-radius:4px;max-width:100%}
        .s-failed{color:var(--bad)}.s-succeeded{color:var(--good)}.s-running{color:var(--accent)}.s-cancelled{color:var(--muted)}
        .muted{color:var(--muted)}
        .notice{background:#ecfdf3;border:1px solid #abefc6;border-radius:6px;padding:8px 12px;margin:8px 0}
        .tabs a{margin-right:10px}.tabs a.on{font-weight:600;color:var(--ink);text-decoration:none}
        .chart{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px;flex:1 1 420px;min-width:300px}
        .chart svg{width:100%;height:auto;display:block}.chart .axis{font-size:11px;fill:var(--muted)}.chart .grid{stroke:#eef0f4}
        @media (max-width:640px){main{padding:10px}th,td{padding:5px 6px}header .node{margin-left:0}}
        """;

    /// <summary>A table row of header cells.</summary>
    public static string HeaderRow(params string[] names) => "<tr>" + string.Concat(names.Select(n => $"<th>{H(n)}</th>")) + "</tr>";

    /// <summary>Table cells holding <paramref name="values"/>, each HTML-encoded.</summary>
    public static string Cells(params object?[] values) => string.Concat(values.Select(v => $"<td>{H(v)}</td>"));

    /// <summary>HTML-encodes any value for text and attribute positions.</summary>
    public static string H(object? value) =>
        HtmlEncoder.Default.Encode(
            value switch
            {
                null => string.Empty,
                DateTimeOffset t => t.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? string.Empty,
            }
        );

    public static string Layout(string title, string active, string body, string node)
    {
        var nav = string.Concat(
            Nav("overview", "/dashboard", active),
            Nav("jobs", "/dashboard/jobs", active),
            Nav("recurring", "/dashboard/recurring", active),
            Nav("queues", "/dashboard/queues", active),
            Nav("nodes", "/dashboard/nodes", active)
        );
        return $$"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{H(title)}} · Jobs</title>
            <meta name="viewport" content="width=device-width,initial-scale=1"><style>{{Style}}</style></head>
            <body><header><strong>Jobs</strong>{{nav}}<span class="node">node {{H(node)}}</span></header>
            <main><h2>{{H(title)}}</h2>{{body}}</main></body></html>
            """;
    }

    /// <summary>The ranges the overview's charts show: key, label, length, points.</summary>
    public static readonly (string Key, string Label, TimeSpan Length, int Points)[] Ranges =
    [
        ("3m", "last 3 minutes (live)", TimeSpan.FromMinutes(3), DashboardSampler.Capacity),
        ("1h", "last hour", TimeSpan.FromHours(1), 60),
        ("24h", "last 24 hours", TimeSpan.FromHours(24), 96),
    ];

    public static string Overview(
        IReadOnlyList<QueueInfo> queues,
        IReadOnlyDictionary<string, IReadOnlyDictionary<JobStatus, long>> countsByQueue,
        string range,
        string charts
    )
    {
        var b = new StringBuilder();
        var totals = Enum.GetValues<JobStatus>().ToDictionary(s => s, s => countsByQueue.Values.Sum(c => c[s]));
        b.Append("<div class=\"cards\">");
        foreach (var (status, count) in totals)
        {
            b.Append(
                $"<div class=\"card\"><a href=\"/dashboard/jobs?status={H(Lower(status))}\"><span "
                    + $"class=\"s-{H(Lower(status))}\">{H(status)}</span><b id=\"count-{H(Lower(status))}\">{H(count)}</b></a></div>"
            );
        }

        b.Append("</div><h3>By queue</h3><div class=\"wrap\"><table><tr><th>queue</th>");
        foreach (var status in Enum.GetValues<JobStatus>())
        {
            b.Append($"<th>{H(Lower(status))}</th>");
        }

        b.Append("<th>state</th></tr>");
        foreach (var q in queues)
        {
            b.Append($"<tr><td><a href=\"/dashboard/jobs?queue={Url(q.Name)}\">{H(q.Name)}</a></td>");
            foreach (var status in Enum.GetValues<JobStatus>())
            {
                b.Append($"<td>{H(countsByQueue[q.Name][status])}</td>");
            }

            b.Append($"<td>{(q.Paused ? "paused" : "running")}</td></tr>");
        }

        b.Append("</table></div><h3>Activity</h3><p class=\"tabs\">");
        foreach (var (key, label, _, _) in Ranges)
        {
            b.Append($"<a href=\"/dashboard?range={key}\"{(key == range ? " class=\"on\"" : string.Empty)}>{H(label)}</a>");
        }

        b.Append($"</p><div class=\"cards\" id=\"charts\">{charts}</div>");
        // Live: counts and charts follow the node's event stream (no build step, no framework). The charts come
        // rendered by the server (every value encoded there), so the page only swaps them in.
        b.Append(
            $$"""
            <p class="muted" id="live">live</p>
            <script>
            const source = new EventSource('/dashboard/live?range={{Url(range)}}');
            source.addEventListener('stats', e => {
              const d = JSON.parse(e.data);
              for (const [status, n] of Object.entries(d.counts)) {
                const el = document.getElementById('count-' + status);
                if (el) el.textContent = n;
              }
              document.getElementById('charts').innerHTML = d.charts;
              document.getElementById('live').textContent = 'live · updated ' + new Date().toLocaleTimeString();
            });
            </script>
            """
        );
        return b.ToString();
    }

    /// <summary>The overview's two charts for a range: jobs finished per second and the median schedule-to-start latency.</summary>
    public static string Charts(
        IReadOnlyList<(DateTimeOffset At, double? Throughput, double? LatencyMs)> points,
        DateTimeOffset from,
        DateTimeOffset to
    ) =>
        Chart("throughput", "jobs finished per second", string.Empty, [.. points.Select(p => (p.At, p.Throughput))], from, to)
        + Chart("latency", "schedule-to-start latency (median)", " ms", [.. points.Select(p => (p.At, p.LatencyMs))], from, to);

    /// <summary>
    /// A line chart as inline SVG with a time axis (start, middle, end) and a value scale (0, half, top, rounded up
    /// to a readable number); gaps where the node has no samples stay gaps.
    /// </summary>
    public static string Chart(
        string name,
        string title,
        string unit,
        IReadOnlyList<(DateTimeOffset At, double? Value)> points,
        DateTimeOffset from,
        DateTimeOffset to
    )
    {
        const double Left = 48,
            Right = 592,
            Top = 10,
            Bottom = 150;
        var max = NiceCeiling(points.Select(p => p.Value ?? 0).DefaultIfEmpty(0).Max());
        var span = Math.Max((to - from).TotalMilliseconds, 1);
        double X(DateTimeOffset at) => Left + ((at - from).TotalMilliseconds / span * (Right - Left));
        double Y(double v) => Bottom - (v / max * (Bottom - Top));
        var b = new StringBuilder();
        b.Append(
            $"<div class=\"chart\"><div>{H(title)}</div><svg viewBox=\"0 0 600 175\" role=\"img\" aria-label=\"{H(title)}\" id=\"chart-{H(name)}\">"
        );
        foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
        {
            var y = Y(max * fraction);
            b.Append(
                Invariant($"<line class=\"grid\" x1=\"{Left}\" x2=\"{Right}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\"/>")
                    + Invariant(
                        $"<text class=\"axis\" x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{H(Number(max * fraction))}{H(unit)}</text>"
                    )
            );
        }

        foreach (var (at, anchor) in new[] { (from, "start"), (from + ((to - from) / 2), "middle"), (to, "end") })
        {
            b.Append(Invariant($"<text class=\"axis\" x=\"{X(at):0.#}\" y=\"170\" text-anchor=\"{anchor}\">{H(TimeLabel(at, to - from))}</text>"));
        }

        var segment = new List<string>();
        void Flush()
        {
            if (segment.Count > 0)
            {
                b.Append($"<polyline fill=\"none\" stroke=\"#175cd3\" stroke-width=\"2\" points=\"{string.Join(' ', segment)}\"/>");
                segment.Clear();
            }
        }

        foreach (var (at, value) in points)
        {
            if (value is { } v)
            {
                segment.Add(Invariant($"{X(at):0.#},{Y(v):0.#}"));
            }
            else
            {
                Flush();
            }
        }

        Flush();
        return b.Append("</svg></div>").ToString();
    }

    /// <summary>The top of a chart's scale: the maximum rounded up to 1, 2 or 5 times a power of ten (at least 1).</summary>
    public static double NiceCeiling(double max)
    {
        if (max <= 1)
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(max)));
        return new[] { 1.0, 2, 5, 10 }.Select(m => m * power).First(v => v >= max);
    }

    private static string Number(double value) =>
        value >= 100 || value == Math.Floor(value)
            ? value.ToString("0", CultureInfo.InvariantCulture)
            : value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string TimeLabel(DateTimeOffset at, TimeSpan range) =>
        at.ToString(range <= TimeSpan.FromMinutes(10) ? "HH:mm:ss" : "HH:mm", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>How long ago (or how soon) <paramref name="at"/> is, in words, with the exact UTC time as the element's title.</summary>
    public static string Ago(DateTimeOffset at, DateTimeOffset now)
    {
        var delta = now - at;
        var future = delta < TimeSpan.Zero;
        var d = future ? -delta : delta;
        var words =
            d < TimeSpan.FromSeconds(1) ? "now"
            : d < TimeSpan.FromMinutes(1) ? $"{(int)d.TotalSeconds} s"
            : d < TimeSpan.FromHours(1) ? $"{(int)d.TotalMinutes} min"
            : d < TimeSpan.FromDays(2) ? $"{(int)d.TotalHours} h"
            : $"{(int)d.TotalDays} days";
        var text =
            words == "now" ? "now"
            : future ? "in " + words
            : words + " ago";
        return $"<time datetime=\"{H(at.ToString("O", CultureInfo.InvariantCulture))}\" title=\"{H(at)}\">{H(text)}</time>";
    }

    public static string JobList(
        JobPage page,
        JobQuery query,
        string? search,
        long total,
        DateTimeOffset now,
        string? notice,
        string csrf,
        bool canAct
    )
    {
        var b = new StringBuilder();
        if (notice is not null)
        {
            b.Append($"<p class=\"notice\" id=\"notice\">{H(notice)}</p>");
        }

        b.Append(
            "<form method=\"get\" action=\"/dashboard/jobs\" class=\"bar\"><label>status <select name=\"status\"><option value=\"\">any</option>"
        );
        foreach (var status in Enum.GetValues<JobStatus>())
        {
            b.Append($"<option{(query.Status == status ? " selected" : string.Empty)}>{H(Lower(status))}</option>");
        }

        b.Append(
            $"</select></label><label>kind <input name=\"kind\" value=\"{H(query.Kind)}\" "
                + $"size=\"12\"></label><label>queue <input name=\"queue\" value=\"{H(query.Queue)}\" size=\"10\"></label>"
        );
        b.Append(
            $"<label>order <select name=\"order\"><option value=\"newest\"{(query.Order == JobListOrder.Newest ? " selected" : string.Empty)}>newest "
                + $"first</option><option value=\"backlog\"{(query.Order == JobListOrder.Backlog ? " selected" : string.Empty)}>run "
                + "order</option></select></label>"
        );
        b.Append($"<label>id <input name=\"q\" value=\"{H(search)}\" size=\"24\"></label><button class=\"primary\">filter</button></form>");
        b.Append(
            $"<p class=\"muted\" id=\"total\">{H(total)} {(total == 1 ? "job" : "jobs")} match{(total == 1 ? "es" : string.Empty)}; "
                + $"showing {H(page.Items.Count)}{(query.Cursor is null ? string.Empty : " (a later page)")}.</p>"
        );
        if (query.Status == JobStatus.Failed && canAct)
        {
            b.Append(
                $"<form method=\"post\" action=\"/dashboard/jobs/retry-failed\" class=\"inline\">{Csrf(csrf)}<input type=\"hidden\" name=\"kind\" "
                    + $"value=\"{H(query.Kind)}\"><input type=\"hidden\" name=\"queue\" "
                    + $"value=\"{H(query.Queue)}\"><button>retry every failed job of this filter</button></form>"
            );
        }

        if (canAct)
        {
            // One form for the selection; each row's checkbox belongs to it.
            b.Append(
                $"<form method=\"post\" action=\"/dashboard/jobs/bulk\" id=\"bulk\" class=\"bar\">{Csrf(csrf)}<span class=\"muted\">selected:</span>"
            );
            b.Append(
                "<button name=\"action\" value=\"cancel\" id=\"bulk-cancel\">cancel</button><button "
                    + "name=\"action\" value=\"retry\" id=\"bulk-retry\">retry</button>"
            );
            b.Append(
                "<button name=\"action\" value=\"delete\" class=\"danger\" id=\"bulk-delete\" onclick=\"return "
                    + "confirm('Delete the selected jobs and their history?')\">delete</button></form>"
            );
        }

        b.Append("<div class=\"wrap\"><table><tr>");
        if (canAct)
        {
            b.Append(
                "<th><input type=\"checkbox\" id=\"select-all\" title=\"select every job on this page\" onclick=\"for "
                    + "(const c of document.querySelectorAll('input[name=id]')) c.checked = this.checked\"></th>"
            );
        }

        b.Append("<th>id</th><th>kind</th><th>queue</th><th>priority</th><th>status</th><th>due</th><th>attempts</th><th>changed</th></tr>");
        foreach (var j in page.Items)
        {
            b.Append("<tr>");
            if (canAct)
            {
                b.Append($"<td><input type=\"checkbox\" name=\"id\" value=\"{H(j.Id)}\" form=\"bulk\" aria-label=\"select {H(j.Id)}\"></td>");
            }

            b.Append($"<td><a href=\"/dashboard/jobs/{Url(j.Id)}\">{H(j.Id)}</a></td>{Cells(j.Kind, j.Queue, j.Priority)}");
            b.Append($"<td class=\"s-{H(Lower(j.Status))}\">{H(Lower(j.Status))}</td><td>{Ago(j.DueAt, now)}</td>");
            b.Append($"<td>{H(j.AttemptCount)}</td><td>{Ago(j.UpdatedAt, now)}</td></tr>");
        }

        if (page.Items.Count == 0)
        {
            b.Append($"<tr><td colspan=\"{(canAct ? 9 : 8)}\" class=\"muted\">No jobs match this filter.</td></tr>");
        }

        b.Append("</table></div>");
        if (page.NextCursor is { } next)
        {
            var status = Url(query.Status is { } s ? Lower(s) : string.Empty);
            var order = Url(query.Order == JobListOrder.Newest ? "newest" : "backlog");
            b.Append(
                $"<a class=\"button\" href=\"/dashboard/jobs?status={status}&kind={Url(query.Kind ?? string.Empty)}"
                    + $"&queue={Url(query.Queue ?? string.Empty)}&order={order}&cursor={Url(next)}\">next page</a>"
            );
        }

        return b.ToString();
    }

    public static string Job(JobInfo job, IReadOnlyList<string> redactKeys, string csrf, bool canAct)
    {
        var b = new StringBuilder();
        b.Append("<div class=\"wrap\"><table>");
        b.Append($"<tr><th>id</th><td>{H(job.Id)}</td></tr><tr><th>kind</th><td>{H(job.Kind)}</td></tr>");
        b.Append($"<tr><th>queue</th><td>{H(job.Queue)}</td></tr>");
        b.Append($"<tr><th>status</th><td class=\"s-{H(Lower(job.Status))}\" id=\"status\">{H(job.Status)}</td></tr>");
        b.Append($"<tr><th>priority</th><td>{H(job.Priority)}</td></tr><tr><th>due</th><td>{H(job.DueAt)}</td></tr>");
        b.Append($"<tr><th>attempts</th><td>{H(job.AttemptCount)} of {(job.MaxAttempts < 0 ? "unlimited" : H(job.MaxAttempts))}</td></tr>");
        b.Append($"<tr><th>last error</th><td class=\"wide\">{H(job.LastError ?? "-")}</td></tr>");
        b.Append($"<tr><th>revision</th><td>{H(job.Revision)}</td></tr></table></div>");
        if (canAct)
        {
            var id = Url(job.Id);
            if (job.Status is JobStatus.Scheduled or JobStatus.Queued or JobStatus.Running)
            {
                b.Append(
                    $"<form method=\"post\" action=\"/dashboard/jobs/{id}/cancel\" "
                        + $"class=\"inline\">{Csrf(csrf)}<button id=\"cancel\">cancel</button></form>"
                );
            }

            if (job.Status is JobStatus.Scheduled or JobStatus.Failed or JobStatus.Cancelled)
            {
                b.Append(
                    $"<form method=\"post\" action=\"/dashboard/jobs/{id}/run-now\" "
                        + $"class=\"inline\">{Csrf(csrf)}<button id=\"run-now\">run now</button></form>"
                );
            }

            if (job.Status is JobStatus.Scheduled or JobStatus.Queued)
            {
                b.Append(
                    $"<form method=\"post\" action=\"/dashboard/jobs/{id}/reschedule\" class=\"inline\">{Csrf(csrf)}<input "
                        + "type=\"datetime-local\" name=\"at\" required> UTC <button>reschedule</button></form>"
                );
            }

            b.Append(
                $"<form method=\"post\" action=\"/dashboard/jobs/{id}/delete\" class=\"inline\" onsubmit=\"return confirm('Delete "
                    + $"this job and its history?')\">{Csrf(csrf)}<button id=\"delete\" class=\"danger\">delete</button></form>"
            );
        }

        b.Append($"<h3>Payload</h3><pre id=\"payload\">{H(Pretty(job.Payload, redactKeys))}</pre>");
        if (job.Result is { } result)
        {
            b.Append($"<h3>Result</h3><pre>{H(Pretty(result, redactKeys))}</pre>");
        }

        b.Append(
            "<h3>Attempts</h3><div class=\"wrap\"><table><tr><th>#</th><th>node</th><th>started</th><th>ended</th><th>outcome</th><th>error</th></tr>"
        );
        foreach (var a in job.Attempts)
        {
            b.Append(
                $"<tr><td>{H(a.Number)}</td><td>{H(a.Node)}</td><td>{H(a.StartedAt)}</td><td>{H(a.EndedAt)}</td><td>{H(a.Outcome)}</td><td "
                    + $"class=\"wide\">{H(a.Error)}"
            );
            if (a.StackTrace is { Length: > 0 } stack)
            {
                b.Append($"<details><summary>stack trace</summary><pre>{H(stack)}</pre></details>");
            }

            b.Append("</td></tr>");
        }

        b.Append("</table></div><h3>Timeline</h3><ul>");
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

    public static string Recurring(IReadOnlyList<RecurringScheduleInfo> schedules, DateTimeOffset now, string? notice, string csrf, bool canAct)
    {
        var b = new StringBuilder();
        if (notice is not null)
        {
            b.Append($"<p class=\"notice\" id=\"notice\">{H(notice)}</p>");
        }

        b.Append(
            "<div class=\"wrap\"><table><tr><th>name</th><th>kind</th><th>schedule</th><th>state</th><th>last "
                + "run</th><th>next run</th><th>now</th><th>runs</th><th>skipped</th><th>missed</th><th></th></tr>"
        );
        foreach (var s in schedules)
        {
            var spec =
                s.Cron is { } c ? $"cron {c} ({s.TimeZone})"
                : s.Every is { } e ? $"every {e}"
                : $"named {s.Named} ({s.TimeZone})";
            var last =
                s.PreviousJobId is { } jobId && s.PreviousOccurrence is { } previous
                    ? $"<a href=\"/dashboard/jobs/{Url(jobId)}\">{Ago(previous, now)}</a>"
                    : "-";
            var next = s.NextOccurrence is { } upcoming ? Ago(upcoming, now) : "-";
            b.Append($"<tr>{Cells(s.Name, s.Kind, spec, Lower(s.State))}<td>{last}</td><td>{next}</td>");
            b.Append($"{Cells(s.Running ? "running" : "idle", s.SuccessfulRuns, s.Skipped, s.Missed)}<td>");
            if (canAct)
            {
                var name = Url(s.Name);
                b.Append(
                    $"<form method=\"post\" action=\"/dashboard/recurring/{name}/trigger\" class=\"inline\">{Csrf(csrf)}<button "
                        + "title=\"run one job of this schedule now; the schedule itself is unchanged\">trigger now</button></form>"
                );
                if (s.State != RecurringState.Completed)
                {
                    var verb = s.State == RecurringState.Paused ? "resume" : "pause";
                    b.Append(
                        $"<form method=\"post\" action=\"/dashboard/recurring/{name}/{verb}\" "
                            + $"class=\"inline\">{Csrf(csrf)}<button>{verb}</button></form>"
                    );
                }

                b.Append(
                    $"<form method=\"post\" action=\"/dashboard/recurring/{name}/delete\" class=\"inline\" onsubmit=\"return "
                        + $"confirm('Delete this schedule? Its jobs stay.')\">{Csrf(csrf)}<button class=\"danger\">delete</button></form>"
                );
            }

            b.Append("</td></tr>");
        }

        if (schedules.Count == 0)
        {
            b.Append(
                "<tr><td colspan=\"11\" class=\"muted\">No recurring schedules. Create one with PUT "
                    + "/api/v1/recurring/{name}, <code>jobs schedule ... --cron</code>, or jobs.recurring in HOCON.</td></tr>"
            );
        }

        return b.Append("</table></div>").ToString();
    }

    private static string Lower(RecurringState state) => state.ToString().ToLowerInvariant();

    public static string Queues(IReadOnlyList<QueueInfo> queues, IReadOnlyDictionary<string, int> kindLimits, string csrf, bool canAct)
    {
        var b = new StringBuilder("<div class=\"wrap\"><table>");
        b.Append(HeaderRow("queue", "workers", "running", "queued", "scheduled", "order", "state", string.Empty));
        foreach (var q in queues)
        {
            b.Append($"<tr>{Cells(q.Name, q.Workers, q.Running, q.Queued, q.Scheduled, q.Order, q.Paused ? "paused" : "running")}<td>");
            if (canAct)
            {
                var verb = q.Paused ? "resume" : "pause";
                b.Append(
                    $"<form method=\"post\" action=\"/dashboard/queues/{Url(q.Name)}/{verb}\" "
                        + $"class=\"inline\">{Csrf(csrf)}<button>{verb}</button></form>"
                );
            }

            b.Append("</td></tr>");
        }

        b.Append("</table></div><h3>Caps per kind</h3>");
        if (kindLimits.Count == 0)
        {
            return b.Append(
                    "<p class=\"muted\" id=\"no-caps\">No kind is capped: every kind may "
                        + "use every worker of its queue. Cap one with <code>jobs.kind-limits "
                        + "{ \"send-email\" = 2 }</code> or <code>JobKindOptions.MaxConcurrency</code>; "
                        + "a capped kind never blocks the rest of a backlog.</p>"
                )
                .ToString();
        }

        b.Append("<div class=\"wrap\"><table><tr><th>kind</th><th>most running at once (all queues)</th></tr>");
        foreach (var (kind, limit) in kindLimits.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            b.Append($"<tr><td>{H(kind)}</td><td>{H(limit)}</td></tr>");
        }

        return b.Append("</table></div>").ToString();
    }

    public static string Login(string? error) =>
        $"<form method=\"post\" action=\"/dashboard/login\"><p>{(error is null ? "This node requires an API key." : H(error))}</p><input "
        + "type=\"password\" name=\"key\" autocomplete=\"current-password\" size=\"40\" autofocus> <button>log in</button></form>";

    /// <summary>Pretty JSON with values of secret-looking properties replaced by "***".</summary>
    public static string Pretty(JsonElement element, IReadOnlyList<string> redactKeys)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            return "null";
        }

        var node = JsonNode.Parse(element.GetRawText());
        Redact(node, redactKeys);
        return node?.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })
            ?? "null";
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

    private static string Nav(string name, string href, string active) =>
        $"<a href=\"{href}\"{(name == active ? " class=\"on\"" : string.Empty)}>{name}</a>";

    private static string Csrf(string token) => $"<input type=\"hidden\" name=\"{DashboardGuard.CsrfField}\" value=\"{H(token)}\">";

    private static string Url(string value) => Uri.EscapeDataString(value);

    /// <summary>
    /// The cluster's members as this node sees them: status, reachability, the scheduler's member, shards, jobs in
    /// memory and running attempts.
    /// </summary>
    public static string Members(IReadOnlyList<ClusterMember> members)
    {
        var rows = new StringBuilder();
        foreach (var m in members)
        {
            rows.Append("<tr><td>")
                .Append(H(m.Address))
                .Append(m.Self ? " <span class=\"muted\">(this node)</span>" : string.Empty)
                .Append("</td><td>")
                .Append(H(m.Status))
                .Append("</td><td>")
                .Append(m.Reachable ? "yes" : "<strong>no</strong>")
                .Append("</td><td>")
                .Append(m.Scheduler ? "yes" : string.Empty)
                .Append("</td><td>")
                .Append(Count(m.Shards))
                .Append("</td><td>")
                .Append(Count(m.Jobs))
                .Append("</td><td>")
                .Append(Count(m.Running))
                .Append("</td></tr>");
        }

        return "<h2>Cluster</h2><table><tr><th>member</th><th>status</th><th>reachable</th><th>scheduler</th><th>shards</th><th>jobs "
            + "in memory</th><th>running</th></tr>"
            + rows
            + "</table>";

        static string Count(int? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "?";
    }
}
