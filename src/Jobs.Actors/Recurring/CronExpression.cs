using System.Globalization;
using Jobs.Client;

namespace Jobs.Actors.Recurring;

/// <summary>
/// A cron expression evaluated on wall-clock time: 5 fields (minute hour day-of-month month day-of-week) or 6 with
/// seconds first; each field takes <c>*</c>, numbers, names (JAN-DEC, SUN-SAT), ranges <c>a-b</c>, steps <c>/n</c>
/// and lists; <c>?</c> means <c>*</c>. Macros: @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly.
/// As in Vixie cron and robfig/cron, when both day fields are restricted a day matching either one matches.
/// Time zones and DST are not handled here (see <see cref="CronSchedule"/>): this type only walks local times.
/// </summary>
internal sealed class CronExpression
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    private readonly ulong _seconds;
    private readonly ulong _minutes;
    private readonly ulong _hours;
    private readonly ulong _days;
    private readonly ulong _months;
    private readonly ulong _weekdays;
    private readonly bool _daysStar;
    private readonly bool _weekdaysStar;

    private CronExpression(
        string text,
        ulong seconds,
        ulong minutes,
        ulong hours,
        ulong days,
        ulong months,
        ulong weekdays,
        bool daysStar,
        bool weekdaysStar
    )
    {
        Text = text;
        _seconds = seconds;
        _minutes = minutes;
        _hours = hours;
        _days = days;
        _months = months;
        _weekdays = weekdays;
        _daysStar = daysStar;
        _weekdaysStar = weekdaysStar;
    }

    /// <summary>The expression as given.</summary>
    public string Text { get; }

    /// <summary>
    /// Parses <paramref name="text"/>; a bad expression throws <see cref="JobValidationException"/> naming <paramref
    /// name="field"/> and the rule broken.
    /// </summary>
    public static CronExpression Parse(string text, string field = "cron")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new JobValidationException(field, "is empty; give 5 or 6 fields or a macro such as @daily");
        }

        if (text.Length > 200)
        {
            throw new JobValidationException(field, "is longer than 200 characters");
        }

        var trimmed = text.Trim();
        var expanded = trimmed.ToLowerInvariant() switch
        {
            "@yearly" or "@annually" => "0 0 0 1 1 *",
            "@monthly" => "0 0 0 1 * *",
            "@weekly" => "0 0 0 * * 0",
            "@daily" or "@midnight" => "0 0 0 * * *",
            "@hourly" => "0 0 * * * *",
            _ when trimmed.StartsWith('@') => throw new JobValidationException(
                field,
                $"'{Shorten(trimmed)}' is not a known macro (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>)"
            ),
            _ => trimmed,
        };
        var parts = expanded.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is not (5 or 6))
        {
            throw new JobValidationException(field, $"has {parts.Length} fields; give 5 (minute hour day month weekday) or 6 (second first)");
        }

        var offset = parts.Length == 6 ? 0 : -1;
        var seconds = offset == 0 ? ParseField(parts[0], 0, 59, null, "second", field) : 1UL;
        var minutes = ParseField(parts[1 + offset], 0, 59, null, "minute", field);
        var hours = ParseField(parts[2 + offset], 0, 23, null, "hour", field);
        var days = ParseField(parts[3 + offset], 1, 31, null, "day-of-month", field);
        var months = ParseField(parts[4 + offset], 1, 12, MonthNames, "month", field);
        var weekdays = ParseField(parts[5 + offset], 0, 7, DayNames, "day-of-week", field);
        if ((weekdays & (1UL << 7)) != 0)
        {
            weekdays = (weekdays | 1UL) & ~(1UL << 7); // 7 is Sunday too
        }

        var daysStar = IsStar(parts[3 + offset]);
        var weekdaysStar = IsStar(parts[5 + offset]);
        var cron = new CronExpression(trimmed, seconds, minutes, hours, days, months, weekdays, daysStar, weekdaysStar);
        if (weekdaysStar && !daysStar && !cron.SomeMonthHasADay())
        {
            throw new JobValidationException(field, $"'{Shorten(trimmed)}' never fires: no selected month has the selected days");
        }

        return cron;
    }

    /// <summary>
    /// The first wall-clock time strictly after <paramref name="after"/> (whole seconds) that matches, or null if none
    /// within 8 years.
    /// </summary>
    public DateTime? NextLocal(DateTime after)
    {
        var t = new DateTime(after.Ticks - (after.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Unspecified).AddSeconds(1);
        var yearLimit = t.Year + 8;
        while (true)
        {
            if (t.Year > yearLimit || t.Year > 9998)
            {
                return null;
            }

            if (!Has(_months, t.Month))
            {
                t = new DateTime(t.Year, t.Month, 1).AddMonths(1);
                continue;
            }

            if (!DayMatches(t))
            {
                t = t.Date.AddDays(1);
                continue;
            }

            if (!Has(_hours, t.Hour))
            {
                t = t.Date.AddHours(t.Hour + 1);
                continue;
            }

            if (!Has(_minutes, t.Minute))
            {
                t = t.Date.AddHours(t.Hour).AddMinutes(t.Minute + 1);
                continue;
            }

            if (!Has(_seconds, t.Second))
            {
                t = t.AddSeconds(1);
                continue;
            }

            return t;
        }
    }

    /// <summary>True when <paramref name="local"/> (whole seconds) matches every field.</summary>
    public bool Matches(DateTime local) =>
        local.Ticks % TimeSpan.TicksPerSecond == 0
        && Has(_months, local.Month)
        && DayMatches(local)
        && Has(_hours, local.Hour)
        && Has(_minutes, local.Minute)
        && Has(_seconds, local.Second);

    /// <inheritdoc/>
    public override string ToString() => Text;

    private bool DayMatches(DateTime t)
    {
        var dom = Has(_days, t.Day);
        var dow = Has(_weekdays, (int)t.DayOfWeek);
        return _daysStar || _weekdaysStar ? dom && dow : dom || dow;
    }

    private bool SomeMonthHasADay()
    {
        for (var month = 1; month <= 12; month++)
        {
            if (!Has(_months, month))
            {
                continue;
            }

            var longest = month == 2 ? 29 : DateTime.DaysInMonth(2001, month);
            if ((_days & ((1UL << (longest + 1)) - 1)) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Has(ulong set, int value) => (set & (1UL << value)) != 0;

    private static bool IsStar(string part) => part is "*" or "?";

    private static ulong ParseField(string part, int min, int max, string[]? names, string name, string field)
    {
        ulong set = 0;
        foreach (var item in part.Split(','))
        {
            if (item.Length == 0)
            {
                throw new JobValidationException(field, $"the {name} field '{part}' has an empty list item");
            }

            var slash = item.IndexOf('/', StringComparison.Ordinal);
            var rangeText = slash < 0 ? item : item[..slash];
            var step = 1;
            if (
                slash >= 0
                && (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1 || step > max)
            )
            {
                throw new JobValidationException(field, $"the {name} field '{part}' has a bad step '{item[(slash + 1)..]}' (1 to {max})");
            }

            int low,
                high;
            if (rangeText is "*" or "?")
            {
                (low, high) = (min, max == 7 ? 6 : max);
            }
            else
            {
                var dash = rangeText.IndexOf('-', StringComparison.Ordinal);
                low = Value(dash < 0 ? rangeText : rangeText[..dash], min, max, names, name, field, part);
                high = dash < 0 ? (slash >= 0 ? (max == 7 ? 6 : max) : low) : Value(rangeText[(dash + 1)..], min, max, names, name, field, part);
                if (high < low)
                {
                    throw new JobValidationException(field, $"the {name} field '{part}' has a range that ends before it starts");
                }
            }

            for (var v = low; v <= high; v += step)
            {
                set |= 1UL << v;
            }
        }

        return set;
    }

    private static int Value(string text, int min, int max, string[]? names, string name, string field, string part)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value >= min && value <= max
                ? value
                : throw new JobValidationException(field, $"the {name} field '{part}' has {value}, outside {min}-{max}");
        }

        if (names is not null)
        {
            var index = Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                return index + (min == 1 ? 1 : 0);
            }
        }

        throw new JobValidationException(
            field,
            $"the {name} field '{Shorten(part)}' has '{Shorten(text)}', which is not a number{(names is null ? string.Empty : " or a name")}"
        );
    }

    private static string Shorten(string text) => text.Length > 40 ? text[..37] + "..." : text;
}
