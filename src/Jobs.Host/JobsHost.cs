using System.Security.Cryptography.X509Certificates;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Hocon;
using Jobs.Host.Dashboard;
using Jobs.Host.Telemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Jobs.Host;

/// <summary>Builds the stock node: the job system with the sample handlers, the HTTP API and the log reporters.</summary>
public static class JobsHost
{
    /// <summary>A web application hosting one job node as <paramref name="options"/> say.</summary>
    public static WebApplication Build(NodeOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = ConfigFactory.Load(options.ConfigFile, options.Overrides);
        var http = HttpSettings.FromConfig(config);
        var listen = options.Listen ?? http.Listen;
        if (http.ApiKeys.Count == 0 && !HttpSettings.IsLoopback(listen) && !http.AllowUnauthenticatedRemote)
        {
            throw new ConfigException(
                $"refusing to listen on {listen} without authentication: configure jobs.http.auth.api-keys, "
                    + "or set jobs.http.auth.allow-unauthenticated-remote = on to accept anyone who can reach it",
                config.GetValue("jobs.http.auth.allow-unauthenticated-remote").Origin,
                "jobs.http.listen"
            );
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(listen);
        if (http.CertificatePath is not null && listen.Split(';').Any(u => !u.Trim().StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ConfigException(
                $"a certificate is configured, so every listen address must be https:// (got {listen})",
                null,
                "jobs.http.listen"
            );
        }

        builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves HTTPS out unless asked
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = http.MaxRequestSize;
            if (http.CertificatePath is { } certificate)
            {
                k.ConfigureHttpsDefaults(o => o.ServerCertificate = X509CertificateLoader.LoadPkcs12FromFile(certificate, http.CertificatePassword));
            }
        });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.ConfigureHttpJsonOptions(o => JobsWire.Apply(o.SerializerOptions));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(http);
        builder.Services.AddSingleton<JobsApi.StreamCounter>();
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer(
                (document, _, _) =>
                {
                    document.Info.Title = "Jobs API";
                    document.Info.Description =
                        "Schedule, inspect and control jobs on a Jobs node. Errors are RFC 9457 problem details with a stable code.";
                    return Task.CompletedTask;
                }
            ));
        builder
            .Services.AddHttpClient("samples", c => c.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { ConnectCallback = SampleNetwork.ConnectAsync });
        builder.Services.AddSingleton<IJobObserver, LoggingObserver>();
        builder.Services.AddHostedService<StatisticsReporter>();
        var telemetry = TelemetrySettings.FromConfig(config);
        AddOpenTelemetry(builder, telemetry, JobsNode.NodeNameFrom(config));
        if (telemetry.Prometheus)
        {
            builder.Services.AddSingleton<PrometheusMetrics>();
        }

        var dashboard = DashboardSettings.FromConfig(config);
        if (dashboard.Enabled)
        {
            builder.Services.AddHostedService<DashboardSampler>();
        }

        if (options.Demo)
        {
            builder.Services.AddHostedService<DemoJobs>();
        }

        builder.Services.AddJobs(jobs =>
            jobs.UseConfig(config)
                .AddHandler<EchoHandler, EchoJob>("echo")
                .AddHandler<SleepHandler, SleepJob>("sleep")
                .AddHandler<HttpGetHandler, HttpGetJob>("http-get")
                .AddHandler<FailNTimesHandler, FailNTimesJob>("fail-n-times")
                .AddHandler<NoOpHandler, NoOpJob>("noop")
        );
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseBadRequestProblems();
        app.UseHostAllowList(http);
        app.UseApiGuards(http, listen);
        app.MapJobsApi();
        app.MapJobsHealth();
        if (telemetry.Prometheus)
        {
            app.Services.GetRequiredService<PrometheusMetrics>(); // listen from the start, so no early measurement is missed
            app.MapGet("/metrics", (PrometheusMetrics metrics) => Results.Text(metrics.Scrape(), PrometheusMetrics.ContentType))
                .ExcludeFromDescription();
        }

        app.MapJobsDashboard(http, dashboard);
        if (dashboard.Enabled)
        {
            app.Lifetime.ApplicationStarted.Register(() =>
                app.Logger.LogInformation(
                    "Dashboard: {Url}/dashboard{Access}",
                    listen.Split(';')[0].TrimEnd('/'),
                    http.ApiKeys.Count > 0 ? " (log in with an API key)" : " (answers only this machine)"
                )
            );
        }

        app.MapOpenApi("/api/v1/openapi.json");
        return app;
    }

    /// <summary>With an OTLP endpoint configured: exports the Jobs spans and meter to it.</summary>
    private static void AddOpenTelemetry(WebApplicationBuilder builder, TelemetrySettings telemetry, string nodeName)
    {
        if (telemetry.OtlpEndpoint is not { } endpoint || !(telemetry.ExportTraces || telemetry.ExportMetrics))
        {
            return;
        }

        var interval = (int)telemetry.ExportInterval.TotalMilliseconds;
        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(telemetry.ServiceName, serviceInstanceId: nodeName));
        if (telemetry.ExportTraces)
        {
            otel.WithTracing(t =>
                t.AddSource(JobsTelemetry.Name)
                    .AddOtlpExporter(o =>
                    {
                        Target(o, "v1/traces");
                        o.BatchExportProcessorOptions.ScheduledDelayMilliseconds = interval;
                    })
            );
        }

        if (telemetry.ExportMetrics)
        {
            otel.WithMetrics(m =>
                m.AddMeter(JobsTelemetry.Name)
                    .AddOtlpExporter(
                        (o, reader) =>
                        {
                            Target(o, "v1/metrics");
                            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
                        }
                    )
            );
        }

        // Over HTTP the exporter posts to the address as given, so each signal gets its standard path; gRPC takes the base.
        void Target(OtlpExporterOptions o, string path)
        {
            o.Protocol = telemetry.OtlpHttp ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            o.Endpoint = telemetry.OtlpHttp ? new Uri(endpoint.ToString().TrimEnd('/') + "/" + path) : endpoint;
        }
    }
}

/// <summary>With <c>--demo</c>: schedules one job of each sample kind so the log shows runs, a retry and a delay.</summary>
internal sealed partial class DemoJobs(IJobsClient client, ILogger<DemoJobs> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var requests = new[]
        {
            ScheduleRequest.Create("echo", new EchoJob("hello from the demo")),
            ScheduleRequest.Create("sleep", new SleepJob(2_000)),
            ScheduleRequest.Create("fail-n-times", new FailNTimesJob(2)),
            ScheduleRequest.Create("echo", new EchoJob("ten seconds later")) with
            {
                Delay = TimeSpan.FromSeconds(10),
            },
        };
        foreach (var request in requests)
        {
            var result = await client.ScheduleAsync(request, stoppingToken).ConfigureAwait(false);
            Scheduled(result.JobId, request.Kind);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: scheduled job {JobId} ({Kind})")]
    private partial void Scheduled(string jobId, string kind);
}
