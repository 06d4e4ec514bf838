using System.Globalization;
using System.Text.RegularExpressions;
using Jobs.Client;

namespace Jobs.Actors.Recurring;

/// <summary>When a recurring schedule's occurrences are: a pure function from an instant to the next occurrence after it.</summary>
internal interface IRecurrence
{
    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null when there is none.</summary>
    DateTimeOffset? Next(DateTimeOffset after);
}

/// <summary>
/// A cron expression in an IANA time zone. DST rules: a wall-clock time in a spring-forward gap occurs at the first
/// valid instant after it (the end of the gap), and a wall-clock time repeated in a fall-back overlap occurs once, at
/// its first instant. Occurrences that land on the same instant (several times in one gap) are one occurrence.
/// </summary>
internal sealed class CronSchedule(CronExpression cron, TimeZoneInfo zone) : IRecurrence
{
    /// <summary>The expression.</summary>
    public CronExpression Cron { get; } = cron;

    /// <summary>The zone its wall-clock times are read in.</summary>
    public TimeZoneInfo Zone { get; } = zone;

    /// <inheritdoc/>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        var local = TimeZoneInfo.ConvertTime(after, Zone).DateTime;
        while (true)
        {
            if (Cron.NextLocal(local) is not { } candidate)
            {
                return null;
            }

            var instant = ToInstant(candidate);
            if (instant > after)
            {
                return instant;
            }

            // Only in a fall-back overlap (after is in the repeated hour's second pass): keep walking.
            local = candidate;
        }
    }

    /// <summary>The instant a wall-clock time stands for under the DST rules above.</summary>
    public DateTimeOffset ToInstant(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (Zone.IsInvalidTime(local))
        {
            // In the gap: find the transition (the first instant whose wall-clock time is past `local`).
            var before = Zone.GetUtcOffset(local.AddHours(-26));
            var lo = new DateTimeOffset(local - Zone.GetUtcOffset(local.AddHours(26)), TimeSpan.Zero).AddHours(-3);
            var hi = new DateTimeOffset(local - before, TimeSpan.Zero).AddHours(3);
            while (hi - lo > TimeSpan.FromSeconds(1))
            {
                var mid = lo + ((hi - lo) / 2);
                mid = new DateTimeOffset(mid.Ticks - (mid.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
                if (TimeZoneInfo.ConvertTime(mid, Zone).DateTime > local)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid;
                }
            }

            return hi;
        }

        if (Zone.IsAmbiguousTime(local))
        {
            var offset = Zone.GetAmbiguousTimeOffsets(local).Max();
            return new DateTimeOffset(local, offset).ToUniversalTime();
        }

        return new DateTimeOffset(local, Zone.GetUtcOffset(local)).ToUniversalTime();
    }
}

/// <summary>Every <see cref="Every"/> from <see cref="Anchor"/>: occurrences are Anchor + k * Every (zones do not matter).</summary>
internal sealed class IntervalSchedule(TimeSpan every, DateTimeOffset anchor) : IRecurrence
{
    /// <summary>The interval.</summary>
    public TimeSpan Every { get; } = every;

    /// <summary>The instant occurrences count from.</summary>
    public DateTimeOffset Anchor { get; } = anchor;

    /// <inheritdoc/>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (after < Anchor)
        {
            return Anchor;
        }

        var k = ((after - Anchor).Ticks / Every.Ticks) + 1;
        var ticks = Anchor.UtcTicks + (k * Every.Ticks);
        return ticks >= DateTimeOffset.MaxValue.UtcTicks - TimeSpan.TicksPerDay ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}

/// <summary>A schedule registered in code under a name: a function from an instant to the next occurrence after it.</summary>
internal sealed class FunctionSchedule(string name, Func<DateTimeOffset, DateTimeOffset?> next) : IRecurrence
{
    /// <summary>The registered name.</summary>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public DateTimeOffset? Next(DateTimeOffset after) => next(after) is { } n && n > after ? n : null;
}

/// <summary>Parsing of time zones and <c>@every</c> durations, with errors naming the field.</summary>
internal static partial class RecurrenceParser
{
    /// <summary>Finds an IANA (or Windows) zone id; a bad id throws <see cref="JobValidationException"/>.</summary>
    public static TimeZoneInfo Zone(string? id, string field = "timeZone")
    {
        if (string.IsNullOrEmpty(id) || id is "UTC" or "Etc/UTC")
        {
            return TimeZoneInfo.Utc;
        }

        if (id.Length > 64 || !ZonePattern().IsMatch(id))
        {
            throw new JobValidationException(field, "must be an IANA time zone id such as Europe/London");
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new JobValidationException(field, $"'{id}' is not a known IANA time zone");
        }
    }

    /// <summary>Parses a Go-style duration ("10s", "1m30s", "2h", "500ms"); at least one second.</summary>
    public static TimeSpan Duration(string text, string field)
    {
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || match.Length == 0)
        {
            throw new JobValidationException(field, $"'{(text.Length > 40 ? text[..37] + "..." : text)}' is not a duration such as 10s, 1m30s or 2h");
        }

        var total = TimeSpan.Zero;
        foreach (Capture capture in match.Groups["part"].Captures)
        {
            var part = capture.Value;
            var unitStart = part.IndexOfAny(['n', 'u', 'm', 's', 'h', 'd', 'µ']);
            var number = double.Parse(part[..unitStart], CultureInfo.InvariantCulture);
            total += part[unitStart..] switch
            {
                "ms" => TimeSpan.FromMilliseconds(number),
                "s" => TimeSpan.FromSeconds(number),
                "m" => TimeSpan.FromMinutes(number),
                "h" => TimeSpan.FromHours(number),
                "d" => TimeSpan.FromDays(number),
                _ => TimeSpan.FromTicks((long)(number / 100)),
            };
        }

        return total;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_+/-]*$")]
    private static partial Regex ZonePattern();

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d))+$")]
    private static partial Regex DurationPattern();
}
