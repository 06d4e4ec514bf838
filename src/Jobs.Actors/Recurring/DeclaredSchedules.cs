using System.Globalization;
using System.Text.Json;
using Jobs.Client;
using Jobs.Hocon;

namespace Jobs.Actors.Recurring;

/// <summary>Reads <c>jobs.named-schedules</c> and <c>jobs.recurring</c>; a bad entry throws <see cref="ConfigException"/> naming its key.</summary>
internal static class DeclaredSchedules
{
    public static void AddNamed(Config config, NamedSchedules named)
    {
        var section = config.GetConfig("jobs.named-schedules");
        foreach (var (name, _) in section.Root)
        {
            var key = $"jobs.named-schedules.{name}";
            try
            {
                named.Add(name, CronExpression.Parse(section.GetString(name), key));
            }
            catch (JobValidationException ex)
            {
                throw new ConfigException(ex.Message, config.GetValue(key).Origin, key);
            }
        }
    }

    public static IReadOnlyList<RecurringScheduleRequest> Recurring(Config config)
    {
        var section = config.GetConfig("jobs.recurring");
        var requests = new List<RecurringScheduleRequest>();
        foreach (var (name, _) in section.Root)
        {
            var entry = section.GetConfig(name);
            var key = $"jobs.recurring.{name}";
            string? Text(string path) => entry.HasPath(path) ? entry.GetString(path) : null;
            try
            {
                requests.Add(
                    new RecurringScheduleRequest
                    {
                        Name = name,
                        Kind = Text("kind") ?? throw new ConfigException("kind is required", config.GetValue(key).Origin, key + ".kind"),
                        Payload = Text("payload") is { } payload ? ParsePayload(payload, config, key) : null,
                        Cron = Text("cron"),
                        Every = entry.HasPath("every") ? entry.GetDuration("every") : null,
                        Named = Text("named"),
                        TimeZone = Text("time-zone"),
                        StartAt = Text("start-at") is { } start ? DateTimeOffset.Parse(start, CultureInfo.InvariantCulture) : null,
                        EndAt = Text("end-at") is { } end ? DateTimeOffset.Parse(end, CultureInfo.InvariantCulture) : null,
                        Limit = entry.HasPath("limit") ? entry.GetInt("limit") : null,
                        Overlap = Text("overlap") switch
                        {
                            null or "skip" => OverlapPolicy.Skip,
                            "queue-one" => OverlapPolicy.QueueOne,
                            "allow" => OverlapPolicy.Allow,
                            var other => throw new ConfigException(
                                $"must be skip, queue-one or allow but is {other}",
                                config.GetValue(key + ".overlap").Origin,
                                key + ".overlap"
                            ),
                        },
                        CatchUpWindow = entry.HasPath("catch-up-window") ? entry.GetDuration("catch-up-window") : null,
                        Priority = entry.HasPath("priority") ? entry.GetInt("priority") : 0,
                        Queue = Text("queue"),
                        MaxAttempts = entry.HasPath("max-attempts") ? entry.GetInt("max-attempts") : null,
                        Timeout = entry.HasPath("timeout") ? entry.GetDuration("timeout") : null,
                    }
                );
            }
            catch (FormatException ex)
            {
                throw new ConfigException($"has a bad time: {ex.Message}", config.GetValue(key).Origin, key);
            }
        }

        return requests;
    }

    private static JsonElement ParsePayload(string text, Config config, string key)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"payload is not JSON: {ex.Message}", config.GetValue(key + ".payload").Origin, key + ".payload");
        }
    }
}
