namespace Jobs.Actors.Recurring;

/// <summary>
/// Named schedules a recurring schedule can refer to: functions registered in code (JobsBuilder.AddNamedSchedule)
/// and cron expressions declared in HOCON under <c>jobs.named-schedules</c> (read in the schedule's time zone).
/// </summary>
internal sealed class NamedSchedules
{
    private readonly Dictionary<string, Func<DateTimeOffset, DateTimeOffset?>> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CronExpression> _crons = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => _functions.Keys.Concat(_crons.Keys).Order(StringComparer.Ordinal);

    public void Add(string name, Func<DateTimeOffset, DateTimeOffset?> next)
    {
        if (Contains(name))
        {
            throw new InvalidOperationException($"a named schedule '{name}' is already registered");
        }

        _functions[name] = next;
    }

    public void Add(string name, CronExpression cron)
    {
        if (Contains(name))
        {
            throw new InvalidOperationException($"a named schedule '{name}' is already registered");
        }

        _crons[name] = cron;
    }

    public bool Contains(string name) => _functions.ContainsKey(name) || _crons.ContainsKey(name);

    /// <summary>The recurrence of a stored definition, or null when its named schedule is no longer registered.</summary>
    public IRecurrence? Build(RecurringDefinition d)
    {
        if (d.Cron is { } cron)
        {
            return cron.StartsWith("@every", StringComparison.OrdinalIgnoreCase)
                ? new IntervalSchedule(RecurrenceParser.Duration(cron[6..], "cron"), d.Anchor)
                : new CronSchedule(CronExpression.Parse(cron), RecurrenceParser.Zone(d.TimeZone));
        }

        if (d.EveryMs is { } ms)
        {
            return new IntervalSchedule(TimeSpan.FromMilliseconds(ms), d.Anchor);
        }

        if (d.Named is { } name)
        {
            if (_functions.TryGetValue(name, out var function))
            {
                return new FunctionSchedule(name, function);
            }

            if (_crons.TryGetValue(name, out var expression))
            {
                return new CronSchedule(expression, RecurrenceParser.Zone(d.TimeZone));
            }
        }

        return null;
    }
}
