using Jobs.Hocon;

namespace Jobs.Host.Telemetry;

/// <summary>The <c>jobs.telemetry</c> settings the stock node reads: /metrics and OTLP export.</summary>
public sealed record TelemetrySettings
{
    /// <summary>Whether GET /metrics serves Prometheus text.</summary>
    public bool Prometheus { get; init; } = true;

    /// <summary>The OTLP collector's base address, or null to export nothing.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Whether OTLP uses HTTP with protobuf bodies (else gRPC).</summary>
    public bool OtlpHttp { get; init; }

    /// <summary>Whether spans are exported.</summary>
    public bool ExportTraces { get; init; } = true;

    /// <summary>Whether the Jobs meter is exported.</summary>
    public bool ExportMetrics { get; init; } = true;

    /// <summary>Time between exports.</summary>
    public TimeSpan ExportInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The exported resource's service.name.</summary>
    public string ServiceName { get; init; } = "jobs";

    /// <summary>Reads <c>jobs.telemetry</c>; a bad value names its key.</summary>
    public static TelemetrySettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var t = config.GetConfig("jobs.telemetry");
        var endpoint = t.GetString("otlp.endpoint");
        Uri? uri = null;
        if (
            endpoint.Length > 0
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        )
        {
            throw new ConfigException(
                $"must be an http:// or https:// address (got '{endpoint}')",
                t.GetValue("otlp.endpoint").Origin,
                "jobs.telemetry.otlp.endpoint"
            );
        }

        var protocol = t.GetString("otlp.protocol");
        if (protocol is not ("grpc" or "http/protobuf"))
        {
            throw new ConfigException(
                $"must be \"grpc\" or \"http/protobuf\" (got '{protocol}')",
                t.GetValue("otlp.protocol").Origin,
                "jobs.telemetry.otlp.protocol"
            );
        }

        var interval = t.GetDuration("otlp.export-interval");
        if (interval < TimeSpan.FromMilliseconds(100))
        {
            throw new ConfigException("must be at least 100ms", t.GetValue("otlp.export-interval").Origin, "jobs.telemetry.otlp.export-interval");
        }

        var service = t.GetString("otlp.service-name");
        if (string.IsNullOrWhiteSpace(service))
        {
            throw new ConfigException("must not be empty", t.GetValue("otlp.service-name").Origin, "jobs.telemetry.otlp.service-name");
        }

        return new TelemetrySettings
        {
            Prometheus = t.GetBoolean("prometheus"),
            OtlpEndpoint = uri,
            OtlpHttp = protocol == "http/protobuf",
            ExportTraces = t.GetBoolean("otlp.traces"),
            ExportMetrics = t.GetBoolean("otlp.metrics"),
            ExportInterval = interval,
            ServiceName = service,
        };
    }
}
