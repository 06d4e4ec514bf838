namespace Jobs.Testing.Faults;

/// <summary>
/// What a total-queue check found in a history: every acknowledged job must have succeeded, or ended as the history
/// says it was meant to (a poison job: Failed), else it is lost;
/// nothing may run that no client attempted (unexpected), and a job may run more than once only where an earlier
/// attempt was in flight on a node that a fault hit (duplicates explained by a fault); plus, per fault, how long
/// until every attempt that was in flight on the node it hit had started again elsewhere.
/// </summary>
/// <param name="Attempted">Jobs a client tried to schedule.</param>
/// <param name="Acknowledged">Jobs whose Schedule call answered.</param>
/// <param name="Unknown">Jobs whose Schedule call ended without an answer (they may or may not exist).</param>
/// <param name="Succeeded">Jobs that ended Succeeded.</param>
/// <param name="Lost">Acknowledged jobs that did not succeed (or, when meant to end otherwise, did not end so).</param>
/// <param name="Unexpected">Jobs that ran but that no client attempted.</param>
/// <param name="Duplicated">Jobs whose handler started more than once.</param>
/// <param name="Unexplained">Duplicated jobs with a start that no fault explains (one more start than the faults allow).</param>
/// <param name="InFlightAtFaults">Attempts in flight (started, not finished) on the node at each fault.</param>
/// <param name="Recovery">Per fault: the time from it until the last of its in-flight attempts started again (null: none was in flight).</param>
/// <param name="StartsByNode">Handler starts per node.</param>
public sealed record QueueCheck(
    int Attempted,
    int Acknowledged,
    int Unknown,
    int Succeeded,
    IReadOnlyList<string> Lost,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> Duplicated,
    IReadOnlyList<string> Unexplained,
    int InFlightAtFaults,
    IReadOnlyList<TimeSpan?> Recovery,
    IReadOnlyDictionary<string, int> StartsByNode
)
{
    /// <summary>Whether the history keeps the promises: nothing lost, nothing unexpected, every duplicate explained.</summary>
    public bool Valid => Lost.Count == 0 && Unexpected.Count == 0 && Unexplained.Count == 0;

    /// <summary>The slowest recovery of any fault (zero when no fault had attempts in flight).</summary>
    public TimeSpan WorstRecovery => Recovery.Where(r => r is not null).Select(r => r!.Value).DefaultIfEmpty(TimeSpan.Zero).Max();

    /// <summary>One line of figures.</summary>
    public override string ToString() =>
        $"attempted {Attempted}, acknowledged {Acknowledged}, unknown {Unknown}, "
        + $"succeeded {Succeeded}, lost {Lost.Count}, unexpected {Unexpected.Count}, "
        + $"duplicated {Duplicated.Count} (in flight at faults {InFlightAtFaults}, "
        + $"unexplained {Unexplained.Count}), worst recovery {WorstRecovery.TotalSeconds:F1} s"
        + (Valid ? string.Empty : $"; lost: {Sample(Lost)}; unexpected: {Sample(Unexpected)}; unexplained: {Sample(Unexplained)}");

    private static string Sample(IReadOnlyList<string> ids) => string.Join(", ", ids.Take(5)) + (ids.Count > 5 ? ", ..." : string.Empty);
}

/// <summary>Checks a recorded <see cref="History"/> as a total queue (see <see cref="QueueCheck"/>).</summary>
public static class TotalQueueChecker
{
    /// <summary>
    /// How long before a fault a handler may have finished and its report still be in flight (on its way to the job's
    /// entity or in that entity's write, under load), for an attempt the job system stored as lost.
    /// </summary>
    public static readonly TimeSpan ReportWindow = TimeSpan.FromSeconds(5);

    /// <summary>Checks <paramref name="history"/>.</summary>
    public static QueueCheck Check(History history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var events = history.Events.OrderBy(e => e.At).ToList();
        var attempted = Ids(events, HistoryKind.Attempted);
        var acknowledged = Ids(events, HistoryKind.Acknowledged);
        var unknown = Ids(events, HistoryKind.Unknown);
        unknown.ExceptWith(acknowledged);
        var succeeded = events
            .Where(e => e.Kind == HistoryKind.Final && e.Detail == "Succeeded")
            .Select(e => e.JobId)
            .ToHashSet(StringComparer.Ordinal);
        var starts = events.Where(e => e.Kind == HistoryKind.Started).ToList();
        var finishes = events
            .Where(e => e.Kind == HistoryKind.Finished)
            .GroupBy(e => (e.JobId, e.Node, e.Attempt))
            .ToDictionary(g => g.Key, g => g.Min(e => e.At));
        var faults = events.Where(e => e.Kind == HistoryKind.Fault).ToList();

        var expected = events
            .Where(e => e.Kind == HistoryKind.Expected)
            .GroupBy(e => e.JobId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Detail, StringComparer.Ordinal);
        var final = events
            .Where(e => e.Kind == HistoryKind.Final)
            .GroupBy(e => e.JobId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Detail, StringComparer.Ordinal);
        bool EndedAsMeant(string id) => expected.TryGetValue(id, out var meant) ? final.GetValueOrDefault(id) == meant : succeeded.Contains(id);
        var lost = acknowledged.Where(id => !EndedAsMeant(id)).Order(StringComparer.Ordinal).ToList();
        var unexpected = starts
            .Select(s => s.JobId)
            .Distinct(StringComparer.Ordinal)
            .Where(id => !attempted.Contains(id))
            .Order(StringComparer.Ordinal)
            .ToList();

        // A fault that lasts (a partition) ends at its node's next FaultEnded; any other is a moment.
        var ends = events.Where(e => e.Kind == HistoryKind.FaultEnded).ToList();
        DateTimeOffset EndOf(HistoryEvent fault) =>
            ends.Where(e => e.Node == fault.Node && e.At >= fault.At).Select(e => (DateTimeOffset?)e.At).Min() ?? fault.At;

        // Attempts the job system stored as lost: their reports were never stored.
        var storedLost = events
            .Where(e => e.Kind == HistoryKind.Recorded && e.Detail == nameof(Client.AttemptOutcome.Lost))
            .Select(e => (e.JobId, e.Node, e.Attempt))
            .ToHashSet();

        // A start is in flight at a fault when it began on the fault's node before the fault ended, had not finished
        // there by the time it began (a frozen node's handler may finish after it resumes, a cut-off node's report may
        // never reach the job: in flight all the same) or finished shortly before with its report not stored (the
        // report was on its way to the job's entity, or in its write, when the node died: the job system stored the
        // attempt as lost), and no earlier fault of that node cut it short already (a node restarted under the same
        // name is hit again later).
        bool InFlight(HistoryEvent start, HistoryEvent fault) =>
            start.Node == fault.Node
            && start.At <= EndOf(fault)
            && !(
                finishes.TryGetValue((start.JobId, start.Node, start.Attempt), out var finished)
                && finished <= fault.At
                && !(fault.At - finished <= ReportWindow && storedLost.Contains((start.JobId, start.Node, start.Attempt)))
            )
            && !faults.Any(f => f.Node == fault.Node && EndOf(f) >= start.At && f.At < fault.At);

        var duplicated = new List<string>();
        var unexplained = new List<string>();
        foreach (var job in starts.GroupBy(s => s.JobId, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            duplicated.Add(job.Key);

            // Each start beyond the first needs an earlier start of the job that a fault cut short.
            var cutShort = job.Count(s => faults.Any(f => InFlight(s, f)));
            if (job.Count() - 1 > cutShort)
            {
                unexplained.Add(job.Key);
            }
        }

        var inFlightTotal = 0;
        var recovery = new List<TimeSpan?>();
        foreach (var fault in faults)
        {
            var inFlight = starts.Where(s => InFlight(s, fault)).ToList();
            inFlightTotal += inFlight.Count;
            TimeSpan? worst = null;
            foreach (var cut in inFlight)
            {
                // The next start of the job after the fault (on any node); none: the job's recovery never came,
                // unless the faulted node itself finished the attempt once it was back (a frozen node whose leases
                // nobody took meanwhile) and the job succeeded: then nothing needed recovering.
                var again = starts.Where(s => s.JobId == cut.JobId && s.At > fault.At && s.At > cut.At).Select(s => (DateTimeOffset?)s.At).Min();
                if (again is null && finishes.ContainsKey((cut.JobId, cut.Node, cut.Attempt)) && succeeded.Contains(cut.JobId))
                {
                    continue;
                }

                // Nor when it was a job meant to fail (a poison job) and this was its last attempt: it ended as meant.
                if (again is null && expected.ContainsKey(cut.JobId) && EndedAsMeant(cut.JobId))
                {
                    continue;
                }

                var took = again is { } at ? at - fault.At : TimeSpan.MaxValue;
                worst = worst is null || took > worst ? took : worst;
            }

            recovery.Add(worst);
        }

        duplicated.Sort(StringComparer.Ordinal);
        unexplained.Sort(StringComparer.Ordinal);
        var byNode = starts
            .GroupBy(s => s.Node ?? "?", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new QueueCheck(
            attempted.Count,
            acknowledged.Count,
            unknown.Count,
            succeeded.Count,
            lost,
            unexpected,
            duplicated,
            unexplained,
            inFlightTotal,
            recovery,
            byNode
        );
    }

    private static HashSet<string> Ids(IEnumerable<HistoryEvent> events, HistoryKind kind) =>
        events.Where(e => e.Kind == kind).Select(e => e.JobId).ToHashSet(StringComparer.Ordinal);
}
