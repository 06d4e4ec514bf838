using System.Globalization;

namespace Jobs.Host;

/// <summary>How the stock node was started: its configuration file, address and sample jobs.</summary>
public sealed record NodeOptions
{
    /// <summary>The HOCON file layered over the embedded reference.conf; null uses only the defaults.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Where the HTTP API listens, overriding <c>jobs.http.listen</c>; null uses the config.</summary>
    public string? Listen { get; init; }

    /// <summary>Schedule a few sample jobs at start so their runs, retries and failures show in the log.</summary>
    public bool Demo { get; init; }

    /// <summary>How often the node's statistics are logged (when they changed).</summary>
    public TimeSpan StatisticsInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The cluster port (<c>--port</c>), overriding <c>akka.remote.dot-netty.tcp.port</c>; null uses the config.</summary>
    public int? Port { get; init; }

    /// <summary>The host name other members reach this node at (<c>--host</c>); null uses the config.</summary>
    public string? Host { get; init; }

    /// <summary>Cluster members to join (<c>--seed</c>, repeatable), overriding <c>akka.cluster.seed-nodes</c>.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>This node's name (<c>--name</c>), overriding <c>jobs.node.name</c>; null uses the config.</summary>
    public string? Name { get; init; }

    /// <summary>The command line's settings as HOCON, laid over the configuration file (null when there are none).</summary>
    public string? Overrides
    {
        get
        {
            var lines = new List<string>();
            if (Port is { } port)
            {
                lines.Add($"akka.remote.dot-netty.tcp.port = {port.ToString(CultureInfo.InvariantCulture)}");
            }

            if (Host is { } host)
            {
                lines.Add($"akka.remote.dot-netty.tcp.hostname = {Quote(host)}");
            }

            if (Seeds.Count > 0)
            {
                lines.Add($"akka.cluster.seed-nodes = [{string.Join(", ", Seeds.Select(Quote))}]");
            }

            if (Name is { } name)
            {
                lines.Add($"jobs.node.name = {Quote(name)}");
            }

            return lines.Count == 0 ? null : string.Join("\n", lines);
        }
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Reads <c>--config PATH</c>, <c>--listen URL</c>, <c>--demo</c>, <c>--stats-interval SECONDS</c> and the cluster's
    /// <c>--port N</c>, <c>--host NAME</c>, <c>--seed ADDRESS</c> (repeatable) and <c>--name NODE</c>; the config file
    /// defaults to <c>JOBS_CONFIG</c>, then <c>hocon/single-node.conf</c> when it exists.
    /// </summary>
    public static NodeOptions Parse(IReadOnlyList<string> args)
    {
        var options = new NodeOptions
        {
            ConfigFile =
                Environment.GetEnvironmentVariable("JOBS_CONFIG") is { Length: > 0 } env ? env
                : File.Exists("hocon/single-node.conf") ? "hocon/single-node.conf"
                : null,
            Listen = Environment.GetEnvironmentVariable("JOBS_LISTEN") is { Length: > 0 } listen ? listen : null,
        };
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"option {args[i]} needs a value");
            options = args[i] switch
            {
                "--config" => options with { ConfigFile = Value() },
                "--listen" => options with { Listen = Value() },
                "--demo" => options with { Demo = true },
                "--stats-interval" => options with { StatisticsInterval = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)) },
                "--port" => options with
                {
                    Port =
                        int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
                            ? port
                            : throw new ArgumentException($"--port needs a port number (0-65535), not '{args[i]}'"),
                },
                "--host" => options with { Host = Value() },
                "--seed" => options with { Seeds = [.. options.Seeds, Seed(Value())] },
                "--name" => options with { Name = Value() },
                _ => throw new ArgumentException(
                    $"unknown option '{args[i]}' (known: --config PATH, --listen URL, --demo, "
                        + "--stats-interval SECONDS, --port N, --host NAME, --seed ADDRESS, --name NODE)"
                ),
            };
        }

        static string Seed(string address) =>
            Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme == "akka.tcp" && uri.Port > 0 && !string.IsNullOrEmpty(uri.UserInfo)
                ? address
                : throw new ArgumentException($"--seed needs a member's address such as akka.tcp://jobs@host:4053, not '{address}'");

        if (options.ConfigFile is { } file && !File.Exists(file))
        {
            throw new ArgumentException($"config file '{file}' does not exist");
        }

        return options;
    }
}
