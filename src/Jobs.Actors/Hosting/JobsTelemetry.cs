using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Jobs.Actors.Hosting;

/// <summary>
/// The job system's traces and metrics, on System.Diagnostics: subscribe with OpenTelemetry's
/// <c>AddSource(JobsTelemetry.Name)</c> and <c>AddMeter(JobsTelemetry.Name)</c>, or any Activity/Meter listener.
/// </summary>
public static class JobsTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "Jobs";

    internal static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Scheduled = Meter.CreateCounter<long>("jobs.scheduled", "{job}", "Jobs scheduled (stored)");

    private static readonly Counter<long> AttemptsEnded = Meter.CreateCounter<long>("jobs.attempts", "{attempt}", "Attempts ended, by outcome");

    private static readonly Histogram<double> StartDelay = Meter.CreateHistogram<double>("jobs.start_delay", "ms", "From a job's due time to the start of its attempt");

    private static readonly Histogram<double> AttemptDuration = Meter.CreateHistogram<double>("jobs.attempt.duration", "ms", "How long attempts ran, by outcome");

    internal static void OnScheduled(string kind, string queue) =>
        Scheduled.Add(1, new KeyValuePair<string, object?>("job.kind", kind), new KeyValuePair<string, object?>("job.queue", queue));

    internal static void OnStarted(string kind, string queue, TimeSpan sinceDue) =>
        StartDelay.Record(Math.Max(0, sinceDue.TotalMilliseconds), new KeyValuePair<string, object?>("job.kind", kind), new KeyValuePair<string, object?>("job.queue", queue));

    internal static void OnEnded(string kind, string queue, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "job.kind", kind }, { "job.queue", queue }, { "job.outcome", outcome } };
        AttemptsEnded.Add(1, tags);
        AttemptDuration.Record(Math.Max(0, duration.TotalMilliseconds), tags);
    }
}
