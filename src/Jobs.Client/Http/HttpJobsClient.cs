using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Jobs.Client.Http;

/// <summary>Options of the remote client; bind them from code or from configuration (HOCON through AddHoconFile).</summary>
public sealed class HttpJobsClientOptions
{
    /// <summary>The node's address, for example http://127.0.0.1:5080/.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>How long one try of a call may take before it counts as a transient failure. Default: 10 s.</summary>
    public TimeSpan TryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Further tries after a transient failure (connection refused or reset, timeout, 429, 502, 503, 504). Default: 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The first retry's delay; each further one doubles, up to <see cref="MaxRetryDelay"/>, with jitter. Default: 200 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between tries. Default: 5 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The API key sent as a bearer token, when the node requires one.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>
/// <see cref="IJobsClient"/> over the node's HTTP/JSON API. Schedule generates the job id on the client when the
/// caller gives none, so a retry after a lost reply finds the job the first try created instead of creating a
/// second one. Only transient failures are retried; every other error arrives as the same exception type the
/// in-process client throws.
/// </summary>
public sealed class HttpJobsClient : IJobsClient
{
    private readonly HttpClient _http;
    private readonly HttpJobsClientOptions _options;

    /// <summary>A client sending through <paramref name="http"/> (its BaseAddress, or the options').</summary>
    public HttpJobsClient(HttpClient http, HttpJobsClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRetries);
        if (http.BaseAddress is null)
        {
            http.BaseAddress = options.BaseAddress
                ?? throw new ArgumentException("a base address is required (HttpJobsClientOptions.BaseAddress)", nameof(options));
        }

        _http = http;
        _options = options;
    }

    /// <inheritdoc />
    public async Task<ScheduleResult> ScheduleAsync(ScheduleRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // A unique key decides the id on the node, so retries are idempotent already; otherwise the client names the job.
        var generated = request.JobId is null && request.UniqueKey is null;
        var body = ScheduleBody.From(generated ? request with { JobId = NewJobId() } : request);
        var (result, earlierTryUnknown) = await SendAsync<ScheduleResult>(() => Post("api/v1/jobs", body), cancellationToken).ConfigureAwait(false);
        // An id only this call knows that "already existed" after a try whose outcome is unknown: that try created it.
        return generated && earlierTryUnknown && result.AlreadyExisted ? result with { AlreadyExisted = false } : result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ScheduleManyItemResult>> ScheduleManyAsync(
        IReadOnlyList<ScheduleRequest> requests,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(requests);
        var generated = requests.Select(r => r.JobId is null && r.UniqueKey is null).ToArray();
        var bodies = requests.Select((r, i) => ScheduleBody.From(generated[i] ? r with { JobId = NewJobId() } : r)).ToArray();
        var (items, earlierTryUnknown) = await SendAsync<BatchItem[]>(() => Post("api/v1/jobs/batch", bodies), cancellationToken)
            .ConfigureAwait(false);
        return
        [
            .. items.Select(i => new ScheduleManyItemResult(
                i.Index,
                i.Result is { } r && generated[i.Index] && earlierTryUnknown && r.AlreadyExisted ? r with { AlreadyExisted = false } : i.Result,
                i.Error?.ToException()
            )),
        ];
    }

    /// <inheritdoc />
    public async Task<JobInfo> GetAsync(string jobId, CancellationToken cancellationToken = default) =>
        (await SendAsync<JobInfo>(() => new HttpRequestMessage(HttpMethod.Get, JobPath(jobId)), cancellationToken).ConfigureAwait(false)).Value;

    /// <inheritdoc />
    public async Task CancelAsync(string jobId, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Post, JobPath(jobId) + "/cancel"), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (JobStateConflictException ex) when (ex.Status == JobStatus.Cancelled && ex.Data.Contains(EarlierTryUnknown))
        {
            // The earlier try whose reply was lost did cancel it.
        }
    }

    /// <inheritdoc />
    public async Task RescheduleAsync(string jobId, DateTimeOffset runAt, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => Post(JobPath(jobId) + "/reschedule", new RescheduleBody(runAt)), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task DestroyAsync(string jobId, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Delete, JobPath(jobId)), cancellationToken).ConfigureAwait(false);
        }
        catch (JobNotFoundException ex) when (ex.Data.Contains(EarlierTryUnknown))
        {
            // The earlier try whose reply was lost did destroy it.
        }
    }

    /// <inheritdoc />
    public async Task RetryAsync(string jobId, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Post, JobPath(jobId) + "/retry"), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (JobStateConflictException ex) when (ex.Data.Contains(EarlierTryUnknown) && ex.Status is not (JobStatus.Failed or JobStatus.Cancelled))
        {
            // The earlier try whose reply was lost did send it back.
        }
    }

    /// <inheritdoc />
    /// <remarks>Sent with If-Match; after a try whose outcome is unknown a retry may answer 412 although that try did
    /// it: read the job again.</remarks>
    public async Task CancelAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => IfMatch(new HttpRequestMessage(HttpMethod.Post, JobPath(jobId) + "/cancel"), ifRevision), cancellationToken)
            .ConfigureAwait(false);

    /// <inheritdoc />
    public async Task RescheduleAsync(string jobId, DateTimeOffset runAt, long ifRevision, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => IfMatch(Post(JobPath(jobId) + "/reschedule", new RescheduleBody(runAt)), ifRevision), cancellationToken)
            .ConfigureAwait(false);

    /// <inheritdoc />
    public async Task DestroyAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => IfMatch(new HttpRequestMessage(HttpMethod.Delete, JobPath(jobId)), ifRevision), cancellationToken)
            .ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<JobStatus, long>> CountAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = "api/v1/counts" + Query(("kind", query.Kind), ("queue", query.Queue));
        return (
            await SendAsync<Dictionary<JobStatus, long>>(() => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false)
        ).Value;
    }

    /// <inheritdoc />
    public async Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path =
            "api/v1/jobs"
            + Query(
                ("status", query.Status?.ToString().ToLowerInvariant()),
                ("kind", query.Kind),
                ("queue", query.Queue),
                ("limit", query.Limit.ToString(CultureInfo.InvariantCulture)),
                ("cursor", query.Cursor),
                ("order", query.Order == JobListOrder.Backlog ? null : query.Order.ToString().ToLowerInvariant())
            );
        return (await SendAsync<JobPage>(() => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads the node's server-sent events. A dropped stream is reconnected (a watch of one job then starts again
    /// with its current state, so nothing is missed; a filtered watch may miss what happened while disconnected).
    /// </remarks>
    public async IAsyncEnumerable<JobTransition> WatchAsync(WatchQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = query.JobId is { } id
            ? JobPath(id) + "/watch"
            : "api/v1/watch" + Query(("status", query.Status?.ToString().ToLowerInvariant()), ("kind", query.Kind), ("queue", query.Queue));
        var failures = 0;
        while (true)
        {
            using var response = await ConnectAsync(path, failures, cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
            while (true)
            {
                (string Event, string Data)? next;
                try
                {
                    next = await ReadEventAsync(reader, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    next = null; // the connection broke: reconnect below
                }

                if (next is not { } sse)
                {
                    break;
                }

                failures = 0;
                if (sse.Event == "error")
                {
                    throw (
                        JsonSerializer.Deserialize<ProblemBody>(sse.Data, JobsWire.Options) ?? new ProblemBody { Code = "watch-failed" }
                    ).ToException();
                }

                if (sse.Event != "transition")
                {
                    continue;
                }

                var transition = JsonSerializer.Deserialize<JobTransition>(sse.Data, JobsWire.Options)!;
                yield return transition;
                if (query.JobId is not null && transition.IsFinal)
                {
                    yield break;
                }
            }

            if (++failures > _options.MaxRetries)
            {
                throw new JobsException("unavailable", $"the watch stream from {_http.BaseAddress} kept breaking");
            }

            await Task.Delay(Backoff(failures - 1), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<RecurringScheduleInfo> SetRecurringAsync(RecurringScheduleRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = RecurringBody.From(request);
        return (
            await SendAsync<RecurringScheduleInfo>(
                    () =>
                        new HttpRequestMessage(HttpMethod.Put, RecurringPath(request.Name))
                        {
                            Content = JsonContent.Create(body, options: JobsWire.Options),
                        },
                    cancellationToken
                )
                .ConfigureAwait(false)
        ).Value;
    }

    /// <inheritdoc />
    public async Task<RecurringScheduleInfo> GetRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        (
            await SendAsync<RecurringScheduleInfo>(() => new HttpRequestMessage(HttpMethod.Get, RecurringPath(name)), cancellationToken)
                .ConfigureAwait(false)
        ).Value;

    /// <inheritdoc />
    public async Task<IReadOnlyList<RecurringScheduleInfo>> ListRecurringAsync(CancellationToken cancellationToken = default) =>
        (
            await SendAsync<RecurringScheduleInfo[]>(() => new HttpRequestMessage(HttpMethod.Get, "api/v1/recurring"), cancellationToken)
                .ConfigureAwait(false)
        ).Value;

    /// <inheritdoc />
    public async Task PauseRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Post, RecurringPath(name) + "/pause"), cancellationToken)
            .ConfigureAwait(false);

    /// <inheritdoc />
    public async Task ResumeRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Post, RecurringPath(name) + "/resume"), cancellationToken)
            .ConfigureAwait(false);

    /// <inheritdoc />
    public async Task DeleteRecurringAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Delete, RecurringPath(name)), cancellationToken).ConfigureAwait(false);
        }
        catch (RecurringNotFoundException ex) when (ex.Data.Contains(EarlierTryUnknown))
        {
            // The earlier try whose reply was lost did delete it.
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<QueueInfo[]>(() => new HttpRequestMessage(HttpMethod.Get, "api/v1/queues"), cancellationToken).ConfigureAwait(false)).Value;

    /// <inheritdoc />
    public async Task PauseQueueAsync(string queue, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Post, QueuePath(queue) + "/pause"), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task ResumeQueueAsync(string queue, CancellationToken cancellationToken = default) =>
        await SendAsync<object?>(() => new HttpRequestMessage(HttpMethod.Post, QueuePath(queue) + "/resume"), cancellationToken)
            .ConfigureAwait(false);

    /// <summary>Opens an event stream, retrying transient failures; a permanent error is thrown as its exception.</summary>
    private async Task<HttpResponseMessage> ConnectAsync(string path, int failures, CancellationToken cancellationToken)
    {
        for (var attempt = failures; ; attempt++)
        {
            JobsException failure;
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (_options.ApiKey is { Length: > 0 } key)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }

            try
            {
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return response;
                }

                using (response)
                {
                    failure = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
                    if (!IsTransient(response.StatusCode))
                    {
                        throw failure;
                    }
                }
            }
            catch (HttpRequestException ex)
            {
                failure = new JobsException("unavailable", $"cannot reach the node at {_http.BaseAddress}: {ex.Message}", ex);
            }
            finally
            {
                request.Dispose();
            }

            if (attempt >= _options.MaxRetries)
            {
                throw failure;
            }

            await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads one server-sent event (comments skipped); null at the end of the stream.</summary>
    private static async Task<(string Event, string Data)?> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var name = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    return (name, data.ToString());
                }

                name = "message";
                continue;
            }

            if (line.StartsWith(':'))
            {
                continue; // keep-alive comment
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event":
                    name = value;
                    break;
                case "data":
                    data.Append(data.Length > 0 ? "\n" : string.Empty).Append(value);
                    break;
            }
        }

        return null;
    }

    /// <summary>The node's identity and statistics.</summary>
    public async Task<NodeInfo> GetNodeAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<NodeInfo>(() => new HttpRequestMessage(HttpMethod.Get, "api/v1/node"), cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>The members of the cluster the node belongs to, as it sees them.</summary>
    public async Task<IReadOnlyList<ClusterMember>> GetMembersAsync(CancellationToken cancellationToken = default) =>
        (
            await SendAsync<ClusterMember[]>(() => new HttpRequestMessage(HttpMethod.Get, "api/v1/nodes"), cancellationToken).ConfigureAwait(false)
        ).Value;

    private const string EarlierTryUnknown = "jobs.earlier-try-unknown";

    private static string NewJobId() => Guid.CreateVersion7().ToString("N");

    private static string JobPath(string jobId)
    {
        if (string.IsNullOrEmpty(jobId))
        {
            // As the node answers it: a bad id is invalid input, not a programming error (the CLI passes it through).
            throw new JobValidationException("jobId", "is required");
        }

        return "api/v1/jobs/" + Uri.EscapeDataString(jobId);
    }

    /// <summary>The ETag of a job at <paramref name="revision"/>, as the node sends it and expects it back in If-Match.</summary>
    public static string ETag(long revision) => "\"" + revision.ToString(CultureInfo.InvariantCulture) + "\"";

    private static HttpRequestMessage IfMatch(HttpRequestMessage request, long revision)
    {
        request.Headers.TryAddWithoutValidation("If-Match", ETag(revision));
        return request;
    }

    private static string QueuePath(string queue)
    {
        return string.IsNullOrEmpty(queue)
            ? throw new JobValidationException("queue", "is required")
            : "api/v1/queues/" + Uri.EscapeDataString(queue);
    }

    private static string RecurringPath(string name)
    {
        return string.IsNullOrEmpty(name)
            ? throw new JobValidationException("name", "is required")
            : "api/v1/recurring/" + Uri.EscapeDataString(name);
    }

    private static HttpRequestMessage Post<T>(string path, T body) =>
        new(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: JobsWire.Options) };

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var builder = new StringBuilder();
        foreach (var (name, value) in parameters)
        {
            if (value is not null)
            {
                builder.Append(builder.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }

        return builder.ToString();
    }

    /// <summary>Sends with retries on transient failures; says whether an earlier try may have taken effect unseen.</summary>
    private async Task<(T Value, bool EarlierTryUnknown)> SendAsync<T>(Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        var unknown = false;
        for (var attempt = 0; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            Exception failure;
            using var tryTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            tryTimeout.CancelAfter(_options.TryTimeout);
            try
            {
                using var message = request();
                if (_options.ApiKey is { Length: > 0 } key)
                {
                    message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                }

                using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, tryTimeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    var value =
                        response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object)
                            ? default!
                            : (await response.Content.ReadFromJsonAsync<T>(JobsWire.Options, tryTimeout.Token).ConfigureAwait(false))!;
                    return (value, unknown);
                }

                var error = await ReadProblemAsync(response, tryTimeout.Token).ConfigureAwait(false);
                if (!IsTransient(response.StatusCode))
                {
                    if (unknown)
                    {
                        error.Data[EarlierTryUnknown] = true;
                    }

                    throw error;
                }

                // 503 from the node (storage failure, timeout) may have happened after the change was made.
                unknown |= response.StatusCode != HttpStatusCode.TooManyRequests;
                retryAfter = response.Headers.RetryAfter?.Delta;
                failure = error;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex)
            {
                unknown = true;
                failure = new JobsException("timeout", $"the node did not answer within {_options.TryTimeout}", ex);
            }
            catch (HttpRequestException ex)
            {
                // Refused before sending changes nothing; a reset or a lost reply may come after the change.
                unknown |= ex.HttpRequestError != HttpRequestError.ConnectionError;
                failure = new JobsException("unavailable", $"cannot reach the node at {_http.BaseAddress}: {ex.Message}", ex);
            }

            if (attempt >= _options.MaxRetries)
            {
                if (unknown)
                {
                    failure.Data[EarlierTryUnknown] = true;
                }

                throw failure;
            }

            await Task.Delay(retryAfter ?? Backoff(attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var raw = _options.RetryDelay.TotalMilliseconds * Math.Pow(2, attempt);
        var capped = Math.Min(raw, _options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private static async Task<JobsException> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                var problem = await response.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options, cancellationToken).ConfigureAwait(false);
                if (problem is not null)
                {
                    return (problem with { Status = problem.Status ?? status }).ToException();
                }
            }
            catch (System.Text.Json.JsonException)
            {
                // Not a problem document after all: fall through to the status line.
            }
        }

        return new JobsException(
            status == 401 ? "unauthorized"
                : status == 403 ? "forbidden"
                : "http-" + status,
            $"the node answered {status} {response.ReasonPhrase}"
        );
    }
}
