using System.Globalization;
using System.Numerics;

namespace Jobs.Hocon;

/// <summary>HOCON's unit formats: durations (default milliseconds) and sizes in bytes (default bytes).</summary>
internal static class Units
{
    private static readonly Dictionary<string, double> DurationTicks = Build(
        (TimeSpan.TicksPerMillisecond / 1_000_000.0, ["ns", "nano", "nanos", "nanosecond", "nanoseconds"]),
        (TimeSpan.TicksPerMillisecond / 1_000.0, ["us", "micro", "micros", "microsecond", "microseconds"]),
        (TimeSpan.TicksPerMillisecond, ["ms", "milli", "millis", "millisecond", "milliseconds"]),
        (TimeSpan.TicksPerSecond, ["s", "second", "seconds"]),
        (TimeSpan.TicksPerMinute, ["m", "minute", "minutes"]),
        (TimeSpan.TicksPerHour, ["h", "hour", "hours"]),
        (TimeSpan.TicksPerDay, ["d", "day", "days"])
    );

    private static readonly Dictionary<string, BigInteger> SizeUnits = BuildSizes();

    /// <summary>Parses "10s", "250 ms", "1.5h" or a bare number of milliseconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration, out string error)
    {
        duration = default;
        if (!Split(text, out var number, out var unit, out error))
        {
            return false;
        }

        var ticksPerUnit = TimeSpan.TicksPerMillisecond * 1.0;
        if (unit.Length > 0 && !DurationTicks.TryGetValue(unit, out ticksPerUnit))
        {
            error = $"unknown duration unit '{unit}' (use ns, us, ms, s, m, h or d, or their long forms)";
            return false;
        }

        var ticks = number * ticksPerUnit;
        if (double.IsNaN(ticks) || ticks > TimeSpan.MaxValue.Ticks || ticks < TimeSpan.MinValue.Ticks)
        {
            error = $"duration '{text}' is out of range";
            return false;
        }

        duration = TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }

    /// <summary>Parses "512K", "10 MiB", "1GB" or a bare number of bytes.</summary>
    public static bool TryParseBytes(string text, out long bytes, out string error)
    {
        bytes = 0;
        if (!Split(text, out var number, out var unit, out error))
        {
            return false;
        }

        var multiplier = BigInteger.One;
        if (unit.Length > 0 && !SizeUnits.TryGetValue(unit, out multiplier))
        {
            error = $"unknown size unit '{unit}' (use B, K/KiB, kB, M/MiB, MB, G/GiB, GB, ... or their long forms)";
            return false;
        }

        var value = number == Math.Floor(number) ? new BigInteger(number) * multiplier : new BigInteger(number * (double)multiplier);
        if (value > long.MaxValue || value < long.MinValue)
        {
            error = $"size '{text}' does not fit in 64 bits";
            return false;
        }

        bytes = (long)value;
        return true;
    }

    private static bool Split(string text, out double number, out string unit, out string error)
    {
        var trimmed = text.Trim();
        var i = 0;
        while (
            i < trimmed.Length
            && (char.IsAsciiDigit(trimmed[i]) || trimmed[i] is '.' or '-' or '+' or 'e' or 'E')
            && !(trimmed[i] is 'e' or 'E' && (i + 1 >= trimmed.Length || !(char.IsAsciiDigit(trimmed[i + 1]) || trimmed[i + 1] is '-' or '+')))
        )
        {
            i++;
        }

        unit = trimmed[i..].Trim();
        error = string.Empty;
        if (!double.TryParse(trimmed[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out number) || double.IsInfinity(number))
        {
            error = $"'{text}' does not start with a number";
            return false;
        }

        if (unit.Any(c => !char.IsLetter(c)))
        {
            error = $"'{text}' has an invalid unit '{unit}'";
            return false;
        }

        return true;
    }

    private static Dictionary<string, double> Build(params (double Ticks, string[] Names)[] units)
    {
        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (ticks, names) in units)
        {
            foreach (var name in names)
            {
                map[name] = ticks;
            }
        }

        return map;
    }

    private static Dictionary<string, BigInteger> BuildSizes()
    {
        var map = new Dictionary<string, BigInteger>(StringComparer.Ordinal)
        {
            ["B"] = 1,
            ["b"] = 1,
            ["byte"] = 1,
            ["bytes"] = 1,
        };
        string[] decimalPrefixes = ["kilo", "mega", "giga", "tera", "peta", "exa", "zetta", "yotta"];
        string[] binaryPrefixes = ["kibi", "mebi", "gibi", "tebi", "pebi", "exbi", "zebi", "yobi"];
        const string letters = "KMGTPEZY";
        for (var p = 0; p < letters.Length; p++)
        {
            var power = p + 1;
            var dec = BigInteger.Pow(1000, power);
            var bin = BigInteger.Pow(1024, power);
            var letter = letters[p].ToString();
            var decimalLetter = p == 0 ? "k" : letter;
            map[decimalLetter + "B"] = dec;
            map[decimalPrefixes[p] + "byte"] = dec;
            map[decimalPrefixes[p] + "bytes"] = dec;
            map[letter] = bin;
            map[letter.ToLowerInvariant()] = bin;
            map[letter + "i"] = bin;
            map[letter + "iB"] = bin;
            map[binaryPrefixes[p] + "byte"] = bin;
            map[binaryPrefixes[p] + "bytes"] = bin;
        }

        return map;
    }
}
