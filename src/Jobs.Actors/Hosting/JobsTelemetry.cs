using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Jobs.Actors.Hosting;

/// <summary>
/// The job system's traces and metrics, on System.Diagnostics: subscribe with OpenTelemetry's
/// <c>AddSource(JobsTelemetry.Name)</c> and <c>AddMeter(JobsTelemetry.Name)</c>, or any Activity/Meter listener.
/// Each node has its own meter instance, tagged <c>jobs.node</c> with the node's name.
/// </summary>
public static class JobsTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "Jobs";

    /// <summary>The meter tag naming the node.</summary>
    public const string NodeTag = "jobs.node";

    internal static readonly ActivitySource Source = new(Name);

    /// <summary>Starts the producer span of a Schedule call; its context is stored with the job and continued by its attempts.</summary>
    internal static Activity? StartSchedule(string kind)
    {
        var activity = Source.StartActivity("schedule " + kind, ActivityKind.Producer);
        activity?.SetTag("job.kind", kind);
        return activity;
    }

    /// <summary>The attempt span: a child of the trace the job was scheduled in (when it carried one), linked to it too.</summary>
    internal static Activity? StartAttempt(string kind, string? traceParent)
    {
        if (traceParent is not null && ActivityContext.TryParse(traceParent, null, out var scheduled))
        {
            return Source.StartActivity("job " + kind, ActivityKind.Consumer, scheduled, links: [new ActivityLink(scheduled)]);
        }

        return Source.StartActivity("job " + kind, ActivityKind.Consumer);
    }
}

/// <summary>One node's instruments on its own <see cref="Meter"/> (so two nodes in a process never mix counts).</summary>
internal sealed class JobsMetrics : IDisposable
{
    /// <summary>Each queue's backlog and running jobs, as last refreshed by the node (read by the gauges).</summary>
    private readonly ConcurrentDictionary<string, (long Queued, int Running)> _queues = new(StringComparer.Ordinal);

    private readonly Counter<long> _scheduled;
    private readonly Counter<long> _attemptsEnded;
    private readonly Histogram<double> _startDelay;
    private readonly Histogram<double> _duration;

    public JobsMetrics(string node)
    {
        Meter = new Meter(new MeterOptions(JobsTelemetry.Name) { Tags = [new(JobsTelemetry.NodeTag, node)] });
        _scheduled = Meter.CreateCounter<long>("jobs.scheduled", "{job}", "Jobs scheduled (stored)");
        Started = Meter.CreateCounter<long>("jobs.started", "{attempt}", "Attempts started");
        Succeeded = Meter.CreateCounter<long>("jobs.succeeded", "{job}", "Jobs that succeeded");
        Failed = Meter.CreateCounter<long>("jobs.failed", "{job}", "Jobs that failed for good");
        Retried = Meter.CreateCounter<long>("jobs.retried", "{attempt}", "Attempts that ended in a retry");
        TimedOut = Meter.CreateCounter<long>("jobs.timed_out", "{attempt}", "Attempts that ran past their timeout");
        Recovered = Meter.CreateCounter<long>("jobs.recovered", "{attempt}", "Attempts lost with a stopped node and recovered");
        Cancelled = Meter.CreateCounter<long>("jobs.cancelled", "{job}", "Jobs cancelled");
        _attemptsEnded = Meter.CreateCounter<long>("jobs.attempts", "{attempt}", "Attempts ended, by outcome");
        _startDelay = Meter.CreateHistogram<double>(
            "jobs.start_delay",
            "ms",
            "Schedule-to-start latency: from a job's due time to the start of its attempt"
        );
        _duration = Meter.CreateHistogram<double>("jobs.attempt.duration", "ms", "How long attempts ran, by outcome");
        Meter.CreateObservableGauge("jobs.queue.depth", () => Gauge(q => q.Queued), "{job}", "Jobs due and waiting for a worker, by queue");
        Meter.CreateObservableGauge("jobs.running", () => Gauge(q => q.Running), "{job}", "Jobs running now, by queue");
    }

    /// <summary>The node's meter (named <see cref="JobsTelemetry.Name"/>).</summary>
    public Meter Meter { get; }

    public Counter<long> Started { get; }

    public Counter<long> Succeeded { get; }

    public Counter<long> Failed { get; }

    public Counter<long> Retried { get; }

    public Counter<long> TimedOut { get; }

    public Counter<long> Recovered { get; }

    public Counter<long> Cancelled { get; }

    public void SetQueue(string queue, long queued, int running) => _queues[queue] = (queued, running);

    public void OnScheduled(string kind, string queue) =>
        _scheduled.Add(1, new KeyValuePair<string, object?>("job.kind", kind), new KeyValuePair<string, object?>("job.queue", queue));

    public void OnStarted(string kind, string queue, TimeSpan sinceDue) =>
        _startDelay.Record(
            Math.Max(0, sinceDue.TotalMilliseconds),
            new KeyValuePair<string, object?>("job.kind", kind),
            new KeyValuePair<string, object?>("job.queue", queue)
        );

    public void OnEnded(string kind, string queue, string outcome, TimeSpan duration)
    {
        var tags = new TagList
        {
            { "job.kind", kind },
            { "job.queue", queue },
            { "job.outcome", outcome },
        };
        _attemptsEnded.Add(1, tags);
        _duration.Record(Math.Max(0, duration.TotalMilliseconds), tags);
    }

    public void Dispose() => Meter.Dispose();

    private IEnumerable<Measurement<long>> Gauge(Func<(long Queued, int Running), long> value) =>
        _queues.Select(q => new Measurement<long>(value(q.Value), new KeyValuePair<string, object?>("job.queue", q.Key)));
}
