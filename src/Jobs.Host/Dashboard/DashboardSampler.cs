using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Jobs.Actors.Hosting;

namespace Jobs.Host.Dashboard;

/// <summary>
/// Samples the node every two seconds for the dashboard's charts: jobs finished per second and the median
/// schedule-to-start latency (from the Jobs meter's start-delay histogram). It keeps the last three minutes of
/// samples and, for longer views, one bucket per minute for a day (the finished count and the latency medians).
/// </summary>
internal sealed class DashboardSampler : BackgroundService
{
    /// <summary>Samples kept (at one per <see cref="Interval"/>).</summary>
    public const int Capacity = 90;

    /// <summary>Time between samples.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly JobsNode _node;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<double> _delays = new();
    private readonly object _gate = new();
    private readonly Queue<(double Throughput, double LatencyMs)> _samples = new();

    /// <summary>One bucket per minute, oldest first: jobs finished in it and the sum and count of its samples' latency medians.</summary>
    private readonly LinkedList<(DateTimeOffset Minute, double Finished, double LatencySum, int LatencySamples)> _minutes = new();

    /// <summary>Minute buckets kept: one day.</summary>
    public const int MinuteCapacity = 24 * 60;
    private long _lastFinished = -1;

    public DashboardSampler(JobsNode node)
    {
        _node = node;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobsTelemetry.Name && instrument.Name == "jobs.start_delay")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(
            (instrument, value, _, _) =>
            {
                if (ReferenceEquals(instrument.Meter, _node.Meter) && _delays.Count < 100_000)
                {
                    _delays.Enqueue(value);
                }
            }
        );
        _listener.Start();
    }

    /// <summary>The samples, oldest first.</summary>
    public IReadOnlyList<(double Throughput, double LatencyMs)> Samples()
    {
        lock (_gate)
        {
            return [.. _samples];
        }
    }

    /// <summary>
    /// The last <paramref name="range"/> (an hour or a day) as points of <paramref name="points"/> buckets, oldest
    /// first: jobs finished per second averaged over each, and the mean of its latency medians; null where the
    /// node has no sample (it was not running).
    /// </summary>
    public IReadOnlyList<(DateTimeOffset At, double? Throughput, double? LatencyMs)> History(TimeSpan range, int points, DateTimeOffset now)
    {
        var width = range / points;
        var start = now - range;
        var sums = new (double Finished, double LatencySum, int LatencySamples, int Minutes)[points];
        lock (_gate)
        {
            foreach (var (minute, finished, latencySum, latencySamples) in _minutes)
            {
                var i = (int)((minute - start) / width);
                if (i >= 0 && i < points)
                {
                    sums[i] = (
                        sums[i].Finished + finished,
                        sums[i].LatencySum + latencySum,
                        sums[i].LatencySamples + latencySamples,
                        sums[i].Minutes + 1
                    );
                }
            }
        }

        return
        [
            .. sums.Select(
                (s, i) =>
                    (
                        start + (width * i),
                        s.Minutes == 0 ? (double?)null : s.Finished / (s.Minutes * 60.0),
                        s.LatencySamples == 0 ? (double?)null : s.LatencySum / s.LatencySamples
                    )
            ),
        ];
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Sample()
    {
        if (_node.Statistics is not { } statistics)
        {
            return;
        }

        var finished = statistics.Succeeded + statistics.Failed + statistics.Cancelled;
        var throughput = _lastFinished < 0 ? 0 : (finished - _lastFinished) / Interval.TotalSeconds;
        _lastFinished = finished;
        var delays = new List<double>();
        while (_delays.TryDequeue(out var delay))
        {
            delays.Add(delay);
        }

        delays.Sort();
        var median = delays.Count == 0 ? 0 : delays[delays.Count / 2];
        lock (_gate)
        {
            _samples.Enqueue((throughput, Math.Max(0, median)));
            while (_samples.Count > Capacity)
            {
                _samples.Dequeue();
            }

            var now = DateTimeOffset.UtcNow;
            var minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
            if (_minutes.Last is not { } last || last.Value.Minute != minute)
            {
                last = _minutes.AddLast((minute, 0, 0, 0));
            }

            last.Value = (
                minute,
                last.Value.Finished + (throughput * Interval.TotalSeconds),
                last.Value.LatencySum + (delays.Count == 0 ? 0 : median),
                last.Value.LatencySamples + (delays.Count == 0 ? 0 : 1)
            );
            while (_minutes.Count > MinuteCapacity)
            {
                _minutes.RemoveFirst();
            }
        }
    }
}
