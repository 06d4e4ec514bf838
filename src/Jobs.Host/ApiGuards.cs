using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Jobs.Client.Http;

namespace Jobs.Host;

/// <summary>Authentication by API key and a per-client request rate for the /api paths and /metrics.</summary>
public static partial class ApiGuards
{
    /// <summary>
    /// Rejects /api requests without a valid key (when keys are configured) with 401, and requests over the
    /// per-client rate with 429 and Retry-After. Keys are compared as SHA-256 hashes in constant time.
    /// </summary>
    public static IApplicationBuilder UseApiGuards(this WebApplication app, HttpSettings settings, string listen)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(settings);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Jobs.Host.ApiGuards");
        if (settings.ApiKeys.Count == 0 && !HttpSettings.IsLoopback(listen))
        {
            UnauthenticatedRemote(log, listen);
        }

        PartitionedRateLimiter<string>? limiter =
            settings.RequestsPerSecond == 0
                ? null
                : PartitionedRateLimiter.Create<string, string>(client =>
                    RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = Math.Max(settings.Burst, 1),
                        TokensPerPeriod = settings.RequestsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                );
        if (limiter is not null)
        {
            app.Lifetime.ApplicationStopped.Register(limiter.Dispose);
        }

        return app.Use(
            async (context, next) =>
            {
                if (
                    !context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal)
                    && !context.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal)
                )
                {
                    await next(context).ConfigureAwait(false);
                    return;
                }

                if (settings.ApiKeys.Count > 0)
                {
                    var key = Authenticate(context.Request, settings.ApiKeys);
                    if (key is null)
                    {
                        context.Response.Headers.WWWAuthenticate = "Bearer";
                        await WriteProblemAsync(
                                context,
                                401,
                                "unauthorized",
                                "a valid API key is required (Authorization: Bearer <key> or X-Api-Key: <key>)"
                            )
                            .ConfigureAwait(false);
                        return;
                    }

                    if (key.ReadOnly && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
                    {
                        await WriteProblemAsync(context, 403, "forbidden", $"API key '{key.Name}' is read-only").ConfigureAwait(false);
                        return;
                    }
                }

                if (limiter is not null)
                {
                    using var lease = limiter.AttemptAcquire(context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                    if (!lease.IsAcquired)
                    {
                        context.Response.Headers.RetryAfter = "1";
                        await WriteProblemAsync(
                                context,
                                429,
                                "rate-limited",
                                $"more than {settings.RequestsPerSecond} requests per second (burst {settings.Burst}) from this client"
                            )
                            .ConfigureAwait(false);
                        return;
                    }
                }

                await next(context).ConfigureAwait(false);
            }
        );
    }

    /// <summary>
    /// Answers 421 with a problem to requests for the API, metrics or dashboard whose Host header is not allowed
    /// (<c>jobs.http.allowed-hosts</c>). Probes stay open: they reveal only status and orchestrators call them by address.
    /// </summary>
    public static IApplicationBuilder UseHostAllowList(this WebApplication app, HttpSettings settings)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(settings);
        return app.Use(
            async (context, next) =>
            {
                var path = context.Request.Path;
                var guarded =
                    path.StartsWithSegments("/api", StringComparison.Ordinal)
                    || path.StartsWithSegments("/metrics", StringComparison.Ordinal)
                    || path.StartsWithSegments("/dashboard", StringComparison.Ordinal);
                if (guarded && !settings.IsHostAllowed(context.Request.Host.Host))
                {
                    await WriteProblemAsync(
                            context,
                            421,
                            "host-not-allowed",
                            $"this node does not answer for host '{context.Request.Host.Host}': add "
                                + "it to jobs.http.allowed-hosts if clients reach the node by that name"
                        )
                        .ConfigureAwait(false);
                    return;
                }

                await next(context).ConfigureAwait(false);
            }
        );
    }

    private static ApiKey? Authenticate(HttpRequest request, IReadOnlyList<ApiKey> keys)
    {
        string? presented = null;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }
        else if (request.Headers.TryGetValue("X-Api-Key", out var header))
        {
            presented = header.ToString();
        }

        return string.IsNullOrEmpty(presented) ? null : Match(presented, keys);
    }

    /// <summary>The configured key <paramref name="presented"/> is, compared as SHA-256 hashes in constant time; null if none.</summary>
    internal static ApiKey? Match(string presented, IReadOnlyList<ApiKey> keys)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiKey? match = null;
        foreach (var key in keys)
        {
            // Every key is compared, each in constant time: neither timing reveals how close a guess was.
            if (CryptographicOperations.FixedTimeEquals(hash, key.Sha256))
            {
                match = key;
            }
        }

        return match;
    }

    private static async Task WriteProblemAsync(HttpContext context, int status, string code, string detail)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemBody
        {
            Status = status,
            Title = code,
            Code = code,
            Detail = detail,
            Type = "https://jobs.dev/errors/" + code,
        };
        await context.Response.WriteAsJsonAsync(problem, JobsWire.Options, "application/problem+json", context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Logs, loudly, that the API is reachable from other machines without authentication.</summary>
    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "The API listens on {Listen} WITHOUT AUTHENTICATION (jobs.http.auth.allow-unauthenticated-remote "
            + "= on): anyone who can reach it can schedule, cancel and delete jobs"
    )]
    private static partial void UnauthenticatedRemote(ILogger log, string listen);
}
