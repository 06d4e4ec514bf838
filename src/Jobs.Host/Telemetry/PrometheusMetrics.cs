using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Jobs.Actors.Hosting;

namespace Jobs.Host.Telemetry;

/// <summary>
/// Collects this node's Jobs meter with a <see cref="MeterListener"/> and renders it in the Prometheus text
/// exposition format (version 0.0.4): counters as <c>_total</c>, gauges read at scrape time, histograms with
/// cumulative millisecond buckets. Only the node's own meter instance is collected.
/// </summary>
internal sealed class PrometheusMetrics : IDisposable
{
    /// <summary>The content type of a scrape.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Histogram bucket bounds, in the instrument's unit (milliseconds).</summary>
    internal static readonly double[] Bounds = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000];

    private readonly JobsNode _node;
    private readonly MeterListener _listener = new();
    private readonly object _gate = new();
    private readonly Dictionary<Instrument, Family> _families = [];
    private readonly HashSet<Instrument> _published = [];

    public PrometheusMetrics(JobsNode node)
    {
        _node = node;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobsTelemetry.Name)
            {
                lock (_gate)
                {
                    _published.Add(instrument);
                }

                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) =>
        {
            lock (_gate)
            {
                _families.Remove(instrument);
                _published.Remove(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The exposition text of the node's metrics now (gauges are read during the call).</summary>
    public string Scrape()
    {
        lock (_gate)
        {
            foreach (var instrument in _published.Where(i => ReferenceEquals(i.Meter, _node.Meter) && !_families.ContainsKey(i)))
            {
                _families[instrument] = new Family(instrument); // listed before its first measurement, with no samples
            }

            foreach (var family in _families.Values.Where(f => f.Kind == FamilyKind.Gauge))
            {
                family.Series.Clear(); // queues that vanished must not linger
            }
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        lock (_gate)
        {
            foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                family.Render(text);
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The exposition name of an instrument: dots to underscores, the unit and _total where Prometheus expects them.</summary>
    internal static string MetricName(Instrument instrument) =>
        Sanitize(instrument.Name)
        + instrument.Unit switch
        {
            "ms" => "_milliseconds",
            "s" => "_seconds",
            _ => string.Empty,
        };

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_' || chars[i] == ':'))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private static string Escape(string value) =>
        value
            .Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Labels(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var all = new List<KeyValuePair<string, string>>();
        foreach (var tag in instrument.Meter.Tags ?? [])
        {
            all.Add(new(Sanitize(tag.Key), Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty));
        }

        foreach (var tag in tags)
        {
            all.Add(new(Sanitize(tag.Key), Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty));
        }

        all.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return string.Join(",", all.Select(l => $"{l.Key}=\"{Escape(l.Value)}\""));
    }

    private static string Number(double value) =>
        value switch
        {
            double.PositiveInfinity => "+Inf",
            double.NegativeInfinity => "-Inf",
            _ when double.IsNaN(value) => "NaN",
            _ => value.ToString("R", CultureInfo.InvariantCulture),
        };

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!ReferenceEquals(instrument.Meter, _node.Meter))
        {
            return; // another node's meter in this process
        }

        var labels = Labels(instrument, tags);
        lock (_gate)
        {
            if (!_families.TryGetValue(instrument, out var family))
            {
                family = new Family(instrument);
                _families[instrument] = family;
            }

            family.Add(labels, value);
        }
    }

    private enum FamilyKind
    {
        Counter,
        Gauge,
        Histogram,
    }

    /// <summary>One instrument's series, by label set.</summary>
    private sealed class Family(Instrument instrument)
    {
        public FamilyKind Kind { get; } =
            instrument switch
            {
                Counter<long> or Counter<double> or ObservableCounter<long> => FamilyKind.Counter,
                Histogram<double> or Histogram<long> => FamilyKind.Histogram,
                _ => FamilyKind.Gauge,
            };

        public string Name { get; } = MetricName(instrument);

        public Dictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);

        public void Add(string labels, double value)
        {
            if (!Series.TryGetValue(labels, out var series))
            {
                series = new Series(Kind == FamilyKind.Histogram ? new long[Bounds.Length] : null);
                Series[labels] = series;
            }

            switch (Kind)
            {
                case FamilyKind.Counter:
                    series.Sum += value;
                    break;
                case FamilyKind.Gauge:
                    series.Sum = value;
                    break;
                default:
                    series.Sum += value;
                    series.Count++;
                    var bucket = Array.BinarySearch(Bounds, value);
                    bucket = bucket >= 0 ? bucket : ~bucket;
                    if (bucket < Bounds.Length)
                    {
                        series.Buckets![bucket]++;
                    }

                    break;
            }
        }

        public void Render(StringBuilder text)
        {
            var name = Kind == FamilyKind.Counter ? Name + "_total" : Name;
            text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description?.Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(Kind.ToString().ToLowerInvariant()).Append('\n');
            foreach (var (labels, series) in Series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                if (Kind != FamilyKind.Histogram)
                {
                    text.Append(name)
                        .Append(labels.Length > 0 ? "{" + labels + "}" : string.Empty)
                        .Append(' ')
                        .Append(Number(series.Sum))
                        .Append('\n');
                    continue;
                }

                var sep = labels.Length > 0 ? "," : string.Empty;
                long cumulative = 0;
                for (var i = 0; i < Bounds.Length; i++)
                {
                    cumulative += series.Buckets![i];
                    text.Append(name)
                        .Append("_bucket{")
                        .Append(labels)
                        .Append(sep)
                        .Append("le=\"")
                        .Append(Number(Bounds[i]))
                        .Append("\"} ")
                        .Append(cumulative)
                        .Append('\n');
                }

                text.Append(name).Append("_bucket{").Append(labels).Append(sep).Append("le=\"+Inf\"} ").Append(series.Count).Append('\n');
                var own = labels.Length > 0 ? "{" + labels + "}" : string.Empty;
                text.Append(name).Append("_sum").Append(own).Append(' ').Append(Number(series.Sum)).Append('\n');
                text.Append(name).Append("_count").Append(own).Append(' ').Append(series.Count).Append('\n');
            }
        }
    }

    /// <summary>A counter's or gauge's value (Sum), or a histogram's sum, count and per-bucket counts.</summary>
    private sealed class Series(long[]? buckets)
    {
        public double Sum { get; set; }

        public long Count { get; set; }

        public long[]? Buckets { get; } = buckets;
    }
}
