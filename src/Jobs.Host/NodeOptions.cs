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

    /// <summary>
    /// Reads <c>--config PATH</c>, <c>--listen URL</c>, <c>--demo</c> and <c>--stats-interval SECONDS</c>; the config
    /// file defaults to <c>JOBS_CONFIG</c>, then <c>hocon/single-node.conf</c> when it exists.
    /// </summary>
    public static NodeOptions Parse(IReadOnlyList<string> args)
    {
        var options = new NodeOptions
        {
            ConfigFile = Environment.GetEnvironmentVariable("JOBS_CONFIG") is { Length: > 0 } env ? env
                : File.Exists("hocon/single-node.conf") ? "hocon/single-node.conf" : null,
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
                _ => throw new ArgumentException($"unknown option '{args[i]}' (known: --config PATH, --listen URL, --demo, --stats-interval SECONDS)"),
            };
        }

        if (options.ConfigFile is { } file && !File.Exists(file))
        {
            throw new ArgumentException($"config file '{file}' does not exist");
        }

        return options;
    }
}
