using System.Net;
using Jobs.Hocon;

namespace Jobs.Host;

/// <summary>One accepted API key: a name for logs, the SHA-256 of the key, and whether it may only read.</summary>
public sealed record ApiKey(string Name, byte[] Sha256, bool ReadOnly);

/// <summary>The <c>jobs.http</c> settings, parsed and validated once; a bad value names its key.</summary>
public sealed record HttpSettings
{
    /// <summary>Where the API listens.</summary>
    public required string Listen { get; init; }

    /// <summary>Largest request body in bytes.</summary>
    public long MaxRequestSize { get; init; }

    /// <summary>Steady requests per second per client; 0 means unlimited.</summary>
    public int RequestsPerSecond { get; init; }

    /// <summary>Requests a client may make at once above the steady rate.</summary>
    public int Burst { get; init; }

    /// <summary>Watch streams open at once.</summary>
    public int MaxStreams { get; init; }

    /// <summary>How often idle watch streams get a keep-alive comment.</summary>
    public TimeSpan StreamKeepAlive { get; init; }

    /// <summary>Accepted API keys; empty means no authentication.</summary>
    public IReadOnlyList<ApiKey> ApiKeys { get; init; } = [];

    /// <summary>The HTTPS certificate file (PKCS#12), or null for plain HTTP.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>The certificate's password.</summary>
    public string? CertificatePassword { get; init; }

    /// <summary>Whether a non-loopback address may be used without authentication.</summary>
    public bool AllowUnauthenticatedRemote { get; init; }

    /// <summary>
    /// Host names (without port, lowercase) the API and dashboard answer; "*" is any. Empty: loopback names when no
    /// API keys are configured, any host with keys (see <see cref="IsHostAllowed"/>).
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>
    /// Whether a request's Host header (<paramref name="host"/>, without port) may be answered. Checking it defeats DNS
    /// rebinding: a page on another site whose name was made to resolve to this node still sends its own name.
    /// </summary>
    public bool IsHostAllowed(string host)
    {
        var name = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (AllowedHosts.Count == 0)
        {
            return ApiKeys.Count > 0 || name == "localhost" || (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address));
        }

        return AllowedHosts.Any(allowed =>
            allowed == "*"
            || allowed == name
            || (allowed.StartsWith("*.", StringComparison.Ordinal) && name.EndsWith(allowed[1..], StringComparison.Ordinal))
        );
    }

    /// <summary>Reads <c>jobs.http</c> from a resolved configuration.</summary>
    public static HttpSettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var http = config.GetConfig("jobs.http");
        var keys = new List<ApiKey>();
        foreach (var (entry, i) in http.GetList("auth.api-keys").Select((e, i) => (e, i)))
        {
            var key = $"jobs.http.auth.api-keys[{i}]";
            var item = entry is ConfigObject o ? new Config(o) : throw new ConfigException("must be an object { name, sha256 }", entry.Origin, key);
            var name = item.HasPath("name") ? item.GetString("name") : $"key-{i}";
            var hex = item.GetString("sha256");
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                throw new ConfigException("sha256 must be 64 hex digits (the SHA-256 of the key)", entry.Origin, key + ".sha256");
            }

            keys.Add(new ApiKey(name, Convert.FromHexString(hex), item.HasPath("read-only") && item.GetBoolean("read-only")));
        }

        var settings = new HttpSettings
        {
            Listen = http.GetString("listen"),
            MaxRequestSize = Positive(http, "max-request-size", http.GetBytes("max-request-size")),
            RequestsPerSecond = NonNegative(http, "requests-per-second", http.GetInt("requests-per-second")),
            Burst = NonNegative(http, "burst", http.GetInt("burst")),
            MaxStreams = (int)Positive(http, "max-streams", http.GetInt("max-streams")),
            StreamKeepAlive =
                http.GetDuration("stream-keep-alive") is var k && k > TimeSpan.Zero
                    ? k
                    : throw new ConfigException("must be positive", http.GetValue("stream-keep-alive").Origin, "jobs.http.stream-keep-alive"),
            ApiKeys = keys,
            AllowedHosts = [.. http.GetStringList("allowed-hosts").Select((h, i) => AllowedHost(http, h, i))],
            AllowUnauthenticatedRemote = http.GetBoolean("auth.allow-unauthenticated-remote"),
            CertificatePath = http.GetString("https.certificate-path") is { Length: > 0 } certificate ? certificate : null,
            CertificatePassword = http.GetString("https.certificate-password") is { Length: > 0 } password ? password : null,
        };
        if (settings.CertificatePath is { } path && !File.Exists(path))
        {
            throw new ConfigException(
                $"certificate file '{path}' does not exist",
                http.GetValue("https.certificate-path").Origin,
                "jobs.http.https.certificate-path"
            );
        }

        return settings;
    }

    /// <summary>Whether <paramref name="listen"/> names only loopback addresses (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool IsLoopback(string listen)
    {
        foreach (var url in listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (
                !Uri.TryCreate(
                    url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
                    UriKind.Absolute,
                    out var uri
                )
            )
            {
                return false;
            }

            var host = uri.Host.Trim('[', ']');
            if (
                !string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
                && !(IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address))
            )
            {
                return false;
            }
        }

        return true;
    }

    private static string AllowedHost(Config http, string host, int index)
    {
        var name = host.Trim().Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        return
            name.Length > 0
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '*')
            && (name == "*" || !name[1..].Contains('*', StringComparison.Ordinal))
            ? name
            : throw new ConfigException(
                $"'{host}' is not a host name (a name such as jobs.example.com, an address, *.example.com or *)",
                http.GetValue("allowed-hosts").Origin,
                $"jobs.http.allowed-hosts[{index}]"
            );
    }

    private static long Positive(Config http, string key, long value) =>
        value > 0 ? value : throw new ConfigException($"must be positive but is {value}", http.GetValue(key).Origin, "jobs.http." + key);

    private static int NonNegative(Config http, string key, int value) =>
        value >= 0 ? value : throw new ConfigException($"must be 0 or more but is {value}", http.GetValue(key).Origin, "jobs.http." + key);
}
