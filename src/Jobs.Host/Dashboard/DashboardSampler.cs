using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Jobs.Actors.Hosting;

namespace Jobs.Host.Dashboard;

/// <summary>
/// Samples the node every two seconds for the dashboard's charts: jobs finished per second and the median
/// schedule-to-start latency (from the Jobs meter's start-delay histogram), keeping the last three minutes.
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
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (ReferenceEquals(instrument.Meter, _node.Meter) && _delays.Count < 100_000)
            {
                _delays.Enqueue(value);
            }
        });
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
        }
    }
}
