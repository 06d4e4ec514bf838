using Jobs.Actors.Handlers;

namespace Jobs.Host;

/// <summary>The payload of the <c>echo</c> sample: the text to echo back as the job's result.</summary>
public sealed record EchoJob(string Text);

/// <summary>The payload of the <c>sleep</c> sample: how long to sleep, in milliseconds.</summary>
public sealed record SleepJob(int Milliseconds);

/// <summary>The payload of the <c>http-get</c> sample: the URL to fetch.</summary>
public sealed record HttpGetJob(string Url);

/// <summary>The payload of the <c>fail-n-times</c> sample: how many attempts fail before one succeeds.</summary>
public sealed record FailNTimesJob(int Times);

/// <summary>The payload of the <c>noop</c> sample: nothing (used by the load tool's remote workloads).</summary>
public sealed record NoOpJob;

/// <summary>Does nothing but say when it started (its result, for the load tool's latency): the cost of the job system itself.</summary>
public sealed class NoOpHandler : IJobHandler<NoOpJob>
{
    /// <inheritdoc />
    public Task<JobOutcome> HandleAsync(NoOpJob payload, JobContext context) =>
        Task.FromResult(JobOutcome.Success(new { startedAt = DateTimeOffset.UtcNow }));
}

/// <summary>Returns its text as the result.</summary>
public sealed class EchoHandler : IJobHandler<EchoJob>
{
    /// <inheritdoc />
    public Task<JobOutcome> HandleAsync(EchoJob payload, JobContext context) =>
        Task.FromResult(
            JobOutcome.Success(
                new
                {
                    echo = payload.Text,
                    node = context.Node,
                    attempt = context.Attempt,
                }
            )
        );
}

/// <summary>Sleeps, honouring cancellation and the run timeout.</summary>
public sealed class SleepHandler : IJobHandler<SleepJob>
{
    /// <inheritdoc />
    public async Task<JobOutcome> HandleAsync(SleepJob payload, JobContext context)
    {
        if (payload.Milliseconds < 0)
        {
            return JobOutcome.Fail("milliseconds must not be negative");
        }

        await Task.Delay(payload.Milliseconds, context.CancellationToken).ConfigureAwait(false);
        return JobOutcome.Success(new { slept = payload.Milliseconds });
    }
}

/// <summary>Fetches a URL: 2xx succeeds with status and length, 4xx fails for good, anything else is retried.</summary>
public sealed class HttpGetHandler(IHttpClientFactory clients) : IJobHandler<HttpGetJob>
{
    /// <inheritdoc />
    public async Task<JobOutcome> HandleAsync(HttpGetJob payload, JobContext context)
    {
        if (!Uri.TryCreate(payload.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return JobOutcome.Fail($"url '{payload.Url}' is not an absolute http(s) URL");
        }

        using var response = await clients.CreateClient("samples").GetAsync(uri, context.CancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(context.CancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        return status switch
        {
            >= 200 and < 300 => JobOutcome.Success(new { status, length = body.Length }),
            >= 400 and < 500 and not 408 and not 429 => JobOutcome.Fail($"GET {uri} answered {status}"),
            _ => throw new HttpRequestException($"GET {uri} answered {status}"),
        };
    }
}

/// <summary>Throws on its first <see cref="FailNTimesJob.Times"/> attempts, then succeeds: shows retries and backoff.</summary>
public sealed class FailNTimesHandler : IJobHandler<FailNTimesJob>
{
    /// <inheritdoc />
    public Task<JobOutcome> HandleAsync(FailNTimesJob payload, JobContext context) =>
        context.Attempt <= payload.Times
            ? throw new InvalidOperationException($"failing on purpose: attempt {context.Attempt} of {payload.Times} planned failures")
            : Task.FromResult(JobOutcome.Success(new { succeededOnAttempt = context.Attempt }));
}
