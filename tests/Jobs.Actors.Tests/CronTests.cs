using FsCheck;
using FsCheck.Fluent;
using Jobs.Actors.Recurring;
using Jobs.Client;
using NCrontab;

namespace Jobs.Actors.Tests;

/// <summary>
/// Our cron parser against NCrontab.Signed (the reference) on random expressions and times, and the DST rules on the
/// transition days of Europe/London, America/New_York and Australia/Lord_Howe (a 30-minute shift).
/// </summary>
public sealed class CronTests
{
    private static readonly DateTime Origin = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);

    /// <summary>A random field: *, a value, a range, a step over * or a range, or a list of those.</summary>
    private static Gen<string> Field(int min, int max)
    {
        var value = Gen.Choose(min, max).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var range = from a in Gen.Choose(min, max) from b in Gen.Choose(min, max) select $"{Math.Min(a, b)}-{Math.Max(a, b)}";
        var step = from s in Gen.Choose(1, Math.Max(1, (max - min) / 2)) from r in Gen.OneOf(Gen.Constant("*"), range) select $"{r}/{s}";
        var single = Gen.OneOf(Gen.Constant("*"), value, range, step);
        var list = from items in Gen.ArrayOf(Gen.OneOf(value, range, step)).Where(a => a.Length is >= 2 and <= 3) select string.Join(',', items);
        return Gen.Frequency((4, single), (1, list));
    }

    private static readonly Gen<(string Expression, bool Seconds)> Expressions =
        from seconds in Gen.Elements(false, true)
        from s in Field(0, 59)
        from m in Field(0, 59)
        from h in Field(0, 23)
        from dom in Field(1, 28)
        from mon in Field(1, 12)
        from dow in Field(0, 6)
        from which in Gen.Choose(0, 2) // both day fields restricted is Vixie's OR, which NCrontab does not do: keep one as *
        let days = which == 0 ? (dom, "*")
        : which == 1 ? ("*", dow)
        : ("*", "*")
        select ((seconds ? s + " " : string.Empty) + $"{m} {h} {days.Item1} {mon} {days.Item2}", seconds);

    [Fact]
    public void NextLocal_MatchesNCrontab_OnRandomExpressionsAndTimes()
    {
        var cases =
            from e in Expressions
            from minutes in Gen.Choose(0, 4 * 365 * 24 * 60)
            from second in Gen.Choose(0, 59)
            select (e, Origin.AddMinutes(minutes).AddSeconds(second));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(cases.ToArbitrary(), c =>
            {
                var ((text, seconds), from) = c;
                var reference = CrontabSchedule.Parse(text, new CrontabSchedule.ParseOptions { IncludingSeconds = seconds });
                var ours = CronExpression.Parse(text);
                var t = from;
                for (var i = 0; i < 5; i++)
                {
                    var expected = Reference(reference, seconds, t, t.AddYears(9));
                    var actual = ours.NextLocal(t);
                    if (expected >= t.AddYears(9))
                    {
                        Assert.Null(actual);
                        return;
                    }

                    Assert.True(expected == actual, $"'{text}' after {t:O}: NCrontab says {expected:O}, we say {actual:O}");
                    Assert.True(ours.Matches(expected));
                    t = expected;
                }
            }));
    }

    /// <summary>
    /// NCrontab's next occurrence. NCrontab.Signed 3.3.2 (the newest our package source has) carries the base time's
    /// seconds into a later minute with 6-field expressions (atifaziz/NCrontab#90, fixed in 3.3.3): when the answer
    /// leaves the base's minute, ask again from that minute's last second, where the bug cannot bite.
    /// </summary>
    private static DateTime Reference(CrontabSchedule reference, bool seconds, DateTime t, DateTime end)
    {
        var direct = reference.GetNextOccurrence(t, end);
        var minute = new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0);
        return seconds && (direct >= end || direct >= minute.AddMinutes(1)) ? reference.GetNextOccurrence(minute.AddSeconds(59), end) : direct;
    }

    [Theory]
    [InlineData("@yearly", "0 0 1 1 *")]
    [InlineData("@annually", "0 0 1 1 *")]
    [InlineData("@monthly", "0 0 1 * *")]
    [InlineData("@weekly", "0 0 * * 0")]
    [InlineData("@daily", "0 0 * * *")]
    [InlineData("@midnight", "0 0 * * *")]
    [InlineData("@hourly", "0 * * * *")]
    [InlineData("0 9 * JAN-MAR MON-FRI", "0 9 * 1-3 1-5")]
    [InlineData("0 0 * * 7", "0 0 * * 0")]
    [InlineData("0 0 ? * *", "0 0 * * *")]
    public void Macros_AndNames_MeanTheirExpansion(string text, string expansion)
    {
        var a = CronExpression.Parse(text);
        var b = CronExpression.Parse(expansion);
        var t = Origin;
        for (var i = 0; i < 50; i++)
        {
            var next = a.NextLocal(t);
            Assert.Equal(b.NextLocal(t), next);
            t = next!.Value;
        }
    }

    [Fact]
    public void BothDayFieldsRestricted_MatchEither_AsInVixieCron()
    {
        // The 13th of each month, and every Friday: April 2026 starts on a Wednesday and its 13th is a Monday.
        var cron = CronExpression.Parse("0 0 13 * 5");
        var days = new List<DateTime>();
        var t = new DateTime(2026, 4, 1);
        while (days.Count < 6)
        {
            t = cron.NextLocal(t)!.Value;
            days.Add(t);
        }

        Assert.Equal(
            new[]
            {
                new DateTime(2026, 4, 3),
                new DateTime(2026, 4, 10),
                new DateTime(2026, 4, 13),
                new DateTime(2026, 4, 17),
                new DateTime(2026, 4, 24),
                new DateTime(2026, 5, 1),
            },
            days
        );
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("* * *", "has 3 fields")]
    [InlineData("* * * * * * *", "has 7 fields")]
    [InlineData("60 * * * *", "outside 0-59")]
    [InlineData("* 24 * * *", "outside 0-23")]
    [InlineData("* * 0 * *", "outside 1-31")]
    [InlineData("* * * 13 *", "outside 1-12")]
    [InlineData("* * * * 8", "outside 0-7")]
    [InlineData("5-1 * * * *", "ends before it starts")]
    [InlineData("*/0 * * * *", "bad step")]
    [InlineData("a * * * *", "not a number")]
    [InlineData("1,,2 * * * *", "empty list item")]
    [InlineData("@fortnightly", "not a known macro")]
    [InlineData("0 0 30 2 *", "never fires")]
    public void BadExpressions_AreRejected_NamingTheRule(string text, string message)
    {
        var error = Assert.Throws<JobValidationException>(() => CronExpression.Parse(text));
        Assert.Equal("cron", error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Feb29_FiresOnlyInLeapYears()
    {
        var cron = CronExpression.Parse("0 12 29 2 *");
        Assert.Equal(new DateTime(2028, 2, 29, 12, 0, 0), cron.NextLocal(new DateTime(2025, 1, 1)));
    }

    public static TheoryData<string, string, string, string> DstCases =>
        new()
        {
            // zone, cron, after (UTC), expected next (UTC)
            // London springs forward 2026-03-29 01:00 GMT -> 02:00 BST: 01:30 does not exist; it runs at the gap's end.
            { "Europe/London", "30 1 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z" },
            { "Europe/London", "30 1 * * *", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z" },
            // London falls back 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 happens twice; it runs once, at the first.
            { "Europe/London", "30 1 * * *", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z" },
            { "Europe/London", "30 1 * * *", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z" },
            // New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT.
            { "America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z" },
            // New York falls back 2026-11-01 02:00 EDT -> 01:00 EST.
            { "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z" },
            { "America/New_York", "30 1 * * *", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z" },
            // Lord Howe moves 30 minutes: 2026-10-04 02:00 -> 02:30 (+10:30 -> +11:00); 2026-04-05 02:00 -> 01:30.
            { "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00Z", "2026-10-03T15:30:00Z" },
            { "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T12:00:00Z", "2026-04-04T14:45:00Z" },
            { "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z" },
        };

    [Theory]
    [MemberData(nameof(DstCases))]
    public void TransitionDays_FollowTheDstRules(string zone, string cron, string after, string expected)
    {
        var schedule = new CronSchedule(CronExpression.Parse(cron), RecurrenceParser.Zone(zone));
        var next = schedule.Next(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Fact]
    public void EveryQuarterHour_OverFallBack_RunsTheRepeatedHourOnce()
    {
        var schedule = new CronSchedule(CronExpression.Parse("*/15 * * * *"), RecurrenceParser.Zone("Europe/London"));
        var occurrences = Walk(schedule, DateTimeOffset.Parse("2026-10-24T23:50:00Z", System.Globalization.CultureInfo.InvariantCulture), 8);
        // 00:00-00:45 BST-local (23:00Z..) ... 01:00-01:45 local first pass is 00:00Z-00:45Z, the second pass is skipped.
        Assert.Equal(
            new[] { "00:00", "00:15", "00:30", "00:45", "02:00", "02:15", "02:30", "02:45" },
            occurrences.Select(o => o.UtcDateTime.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture))
        );
    }

    [Fact]
    public void EveryQuarterHour_OverSpringForward_GapTimesBecomeOneOccurrence()
    {
        var schedule = new CronSchedule(CronExpression.Parse("*/15 * * * *"), RecurrenceParser.Zone("America/New_York"));
        var occurrences = Walk(schedule, DateTimeOffset.Parse("2026-03-08T06:40:00Z", System.Globalization.CultureInfo.InvariantCulture), 4);
        // 01:45 EST = 06:45Z; 02:00-02:45 do not exist and all mean 03:00 EDT = 07:00Z; then 03:15 EDT = 07:15Z.
        Assert.Equal(
            new[] { "06:45", "07:00", "07:15", "07:30" },
            occurrences.Select(o => o.UtcDateTime.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture))
        );
    }

    [Fact]
    public void ZonedOccurrences_AreIncreasing_AndEachMatchesOrEndsAGap()
    {
        var zones = new[] { "Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata" };
        var cases =
            from e in Expressions
            from z in Gen.Elements(zones)
            from minutes in Gen.Choose(0, 3 * 365 * 24 * 60)
            select (e.Expression, z, minutes);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(cases.ToArbitrary(), c =>
            {
                var zone = RecurrenceParser.Zone(c.z);
                var cron = CronExpression.Parse(c.Expression);
                var schedule = new CronSchedule(cron, zone);
                var t = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(c.minutes);
                for (var i = 0; i < 5; i++)
                {
                    if (schedule.Next(t) is not { } next)
                    {
                        return;
                    }

                    Assert.True(next > t);
                    var local = TimeZoneInfo.ConvertTime(next, zone).DateTime;
                    var transition = zone.GetUtcOffset(next.AddSeconds(-1)) != zone.GetUtcOffset(next);
                    Assert.True(
                        cron.Matches(local) || transition,
                        $"{c.Expression} in {c.z}: {next:O} ({local:O} local) neither matches nor ends a gap"
                    );
                    t = next;
                }
            }));
    }

    [Fact]
    public void Intervals_CountFromTheAnchor()
    {
        var anchor = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var every = new IntervalSchedule(TimeSpan.FromSeconds(10), anchor);
        Assert.Equal(anchor, every.Next(anchor.AddDays(-1)));
        Assert.Equal(anchor.AddSeconds(10), every.Next(anchor));
        Assert.Equal(anchor.AddSeconds(30), every.Next(anchor.AddSeconds(29.5)));
        Assert.Equal(TimeSpan.FromSeconds(90), RecurrenceParser.Duration("1m30s", "cron"));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), RecurrenceParser.Duration("1.5s", "cron"));
        Assert.Equal("cron", Assert.Throws<JobValidationException>(() => RecurrenceParser.Duration("ten seconds", "cron")).Field);
        Assert.Equal("timeZone", Assert.Throws<JobValidationException>(() => RecurrenceParser.Zone("Mars/Olympus_Mons")).Field);
        Assert.Equal("timeZone", Assert.Throws<JobValidationException>(() => RecurrenceParser.Zone("../../etc/passwd")).Field);
    }

    private static List<DateTimeOffset> Walk(IRecurrence schedule, DateTimeOffset from, int count)
    {
        var list = new List<DateTimeOffset>();
        var t = from;
        while (list.Count < count)
        {
            t = schedule.Next(t)!.Value;
            list.Add(t);
        }

        return list;
    }
}
