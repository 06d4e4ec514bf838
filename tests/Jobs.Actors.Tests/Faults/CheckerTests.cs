using Jobs.Testing.Faults;

namespace Jobs.Actors.Tests.Faults;

/// <summary>The total-queue checker on histories made by hand: ones that keep the promises and ones that must fail.</summary>
public sealed class CheckerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static HistoryEvent At(double seconds, HistoryKind kind, string job, string? node = null, int attempt = 0, string? detail = null) =>
        new(T0.AddSeconds(seconds), kind, job, node, attempt, detail);

    private static History Of(params HistoryEvent[] events)
    {
        var history = new History();
        foreach (var e in events)
        {
            history.Add(e);
        }

        return history;
    }

    /// <summary>A job attempted, acknowledged, run once on <paramref name="node"/> and succeeded.</summary>
    private static HistoryEvent[] RanOnce(string job, string node, double at) =>
        [
            At(at, HistoryKind.Attempted, job),
            At(at + 0.01, HistoryKind.Acknowledged, job),
            At(at + 0.1, HistoryKind.Started, job, node, 1),
            At(at + 0.2, HistoryKind.Finished, job, node, 1),
            At(100, HistoryKind.Final, job, detail: "Succeeded"),
        ];

    [Fact]
    public void EveryJobRunOnce_IsValid()
    {
        var check = TotalQueueChecker.Check(Of([.. RanOnce("a", "n1", 1), .. RanOnce("b", "n2", 2)]));
        Assert.True(check.Valid, check.ToString());
        Assert.Equal((2, 2, 2), (check.Attempted, check.Acknowledged, check.Succeeded));
        Assert.Empty(check.Duplicated);
    }

    [Fact]
    public void AJobMeantToFail_IsNotLostWhenItFails_ButIsWhenItEndsAnyOtherWay()
    {
        // "poison" kills the node running it on each of its two attempts, and is meant to end Failed.
        HistoryEvent[] Poison(string id, string? final) =>
            [
                At(1, HistoryKind.Attempted, id),
                At(1.01, HistoryKind.Acknowledged, id),
                At(1.02, HistoryKind.Expected, id, detail: "Failed"),
                At(2, HistoryKind.Started, id, "n1", 1),
                At(2.1, HistoryKind.Fault, string.Empty, "n1", detail: "exited 134"),
                At(12, HistoryKind.Started, id, "n2", 2),
                At(12.1, HistoryKind.Fault, string.Empty, "n2", detail: "exited 134"),
                .. final is null ? Array.Empty<HistoryEvent>() : [At(100, HistoryKind.Final, id, detail: final)],
            ];

        var failed = TotalQueueChecker.Check(Of([.. Poison("poison", "Failed"), .. RanOnce("a", "n3", 1)]));
        Assert.True(failed.Valid, failed.ToString());
        Assert.Equal(["poison"], failed.Duplicated); // both starts were cut short by a fault: explained
        Assert.Equal(2, failed.InFlightAtFaults);
        Assert.Equal([TimeSpan.FromSeconds(9.9), null], failed.Recovery); // its last attempt needed no recovery: it ended as meant

        // Still running at the end, or succeeded against expectations: not what was meant.
        Assert.Equal(["poison"], TotalQueueChecker.Check(Of(Poison("poison", null))).Lost);
        Assert.Equal(["poison"], TotalQueueChecker.Check(Of(Poison("poison", "Succeeded"))).Lost);

        // Without the expectation a failed job is lost.
        Assert.Equal(["a"], TotalQueueChecker.Check(Of([.. RanOnce("a", "n3", 1)[..^1], At(100, HistoryKind.Final, "a", detail: "Failed")])).Lost);
    }

    [Fact]
    public void AHandlerLogWrittenUnderASkewedClock_IsReadBackOnTheTrueClock()
    {
        var path = Path.GetTempFileName();
        try
        {
            var written = T0.AddSeconds(30).ToUnixTimeMilliseconds(); // the node's clock runs 30 s ahead
            File.WriteAllLines(path, [$"start {written} j 1 n1", $"end {written + 500} j 1 n1", "start 12"]);
            var history = new History();
            history.AddHandlerLog("n1", path, TimeSpan.FromSeconds(30));
            Assert.Equal([(HistoryKind.Started, T0), (HistoryKind.Finished, T0.AddMilliseconds(500))], history.Events.Select(e => (e.Kind, e.At)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void APartitionLasts_UntilItsNodeIsRemoved_WhatTheNodeStartedMeanwhileIsInFlight_ButNotAfter()
    {
        // n1 is cut off at 10 s and removed at 20 s. It started "p1" at 12 s and finished it at 19 s, but the report
        // could not cross the cut: "p1" ran again on n2 at 25 s (explained). "late" started on n1 at 30 s (n1 back
        // under the same name) and ran again on n2: nothing explains that. Recovery: from the cut to p1's new start.
        HistoryEvent[] cutAndRerun =
        [
            At(9, HistoryKind.Attempted, "p1"),
            At(9.1, HistoryKind.Acknowledged, "p1"),
            At(10, HistoryKind.Fault, string.Empty, "n1", detail: "partitioned"),
            At(12, HistoryKind.Started, "p1", "n1", 1),
            At(19, HistoryKind.Finished, "p1", "n1", 1),
            At(25, HistoryKind.Started, "p1", "n2", 2),
            At(26, HistoryKind.Finished, "p1", "n2", 2),
            At(100, HistoryKind.Final, "p1", detail: "Succeeded"),
        ];
        var check = TotalQueueChecker.Check(
            Of([
                .. cutAndRerun,
                At(20, HistoryKind.FaultEnded, string.Empty, "n1", detail: "removed"),
                At(29, HistoryKind.Attempted, "late"),
                At(29.1, HistoryKind.Acknowledged, "late"),
                At(30, HistoryKind.Started, "late", "n1", 1),
                At(31, HistoryKind.Started, "late", "n2", 2),
                At(32, HistoryKind.Finished, "late", "n2", 2),
                At(100, HistoryKind.Final, "late", detail: "Succeeded"),
            ])
        );
        Assert.Equal(["late", "p1"], check.Duplicated);
        Assert.Equal(["late"], check.Unexplained);
        Assert.Equal(1, check.InFlightAtFaults);
        Assert.Equal(TimeSpan.FromSeconds(15), Assert.Single(check.Recovery));

        // Without its end the fault is the moment of the cut: p1 started after it, so its second run is unexplained.
        Assert.Equal(["p1"], TotalQueueChecker.Check(Of(cutAndRerun)).Unexplained);
    }

    [Fact]
    public void AnAcknowledgedJobThatNeverSucceeded_IsLost()
    {
        var check = TotalQueueChecker.Check(
            Of([
                .. RanOnce("a", "n1", 1),
                At(2, HistoryKind.Attempted, "b"),
                At(2.1, HistoryKind.Acknowledged, "b"),
                At(100, HistoryKind.Final, "b", detail: "Running"),
            ])
        );
        Assert.False(check.Valid);
        Assert.Equal(["b"], check.Lost);
    }

    [Fact]
    public void AJobWithAnUnknownOutcome_IsNotLostWhenItNeverRan_AndFineWhenItRan()
    {
        var check = TotalQueueChecker.Check(
            Of(
                At(1, HistoryKind.Attempted, "u1"),
                At(6, HistoryKind.Unknown, "u1"), // timed out, never stored
                At(1, HistoryKind.Attempted, "u2"),
                At(6, HistoryKind.Unknown, "u2"), // timed out, but stored: it ran
                At(7, HistoryKind.Started, "u2", "n1", 1),
                At(7.1, HistoryKind.Finished, "u2", "n1", 1),
                At(100, HistoryKind.Final, "u2", detail: "Succeeded")
            )
        );
        Assert.True(check.Valid, check.ToString());
        Assert.Equal(2, check.Unknown);
        Assert.Equal(0, check.Acknowledged);
    }

    [Fact]
    public void AJobThatRanWithoutBeingAttempted_IsUnexpected()
    {
        var check = TotalQueueChecker.Check(Of([.. RanOnce("a", "n1", 1), At(3, HistoryKind.Started, "ghost", "n2", 1)]));
        Assert.False(check.Valid);
        Assert.Equal(["ghost"], check.Unexpected);
    }

    [Fact]
    public void ARunAgainAfterItsNodeWasKilledMidAttempt_IsAnExplainedDuplicate_WithItsRecoveryTime()
    {
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n1", 1),
                At(2, HistoryKind.Fault, string.Empty, "n1", detail: "kill -9"),
                At(20, HistoryKind.Started, "a", "n2", 2),
                At(20.5, HistoryKind.Finished, "a", "n2", 2),
                At(100, HistoryKind.Final, "a", detail: "Succeeded")
            )
        );
        Assert.True(check.Valid, check.ToString());
        Assert.Equal(["a"], check.Duplicated);
        Assert.Equal(1, check.InFlightAtFaults);
        Assert.Equal(TimeSpan.FromSeconds(18), Assert.Single(check.Recovery));
    }

    [Fact]
    public void ARunAgainAfterItFinished_IsAnUnexplainedDuplicate_EvenWithAFaultOnItsNode()
    {
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n1", 1),
                At(1.5, HistoryKind.Finished, "a", "n1", 1), // done before the kill
                At(2, HistoryKind.Fault, string.Empty, "n1", detail: "kill -9"),
                At(20, HistoryKind.Started, "a", "n2", 2),
                At(20.5, HistoryKind.Finished, "a", "n2", 2),
                At(100, HistoryKind.Final, "a", detail: "Succeeded")
            )
        );
        Assert.False(check.Valid);
        Assert.Equal(["a"], check.Unexplained);
        Assert.Null(Assert.Single(check.Recovery)); // nothing was in flight there
    }

    [Theory]
    [InlineData(0.2, "Lost", true)] // its report was on its way when the node died: the job stored the attempt as lost
    [InlineData(0.2, "Succeeded", false)] // stored as succeeded, yet run again
    [InlineData(30, "Lost", false)] // finished long before the kill: a report that old was not in flight
    public void ARunAgainAfterItFinished_IsExplained_OnlyWhenItsReportWasNotStored_AndItFinishedJustBeforeTheKill(
        double beforeKill,
        string stored,
        bool explained
    )
    {
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n1", 1),
                At(40 - beforeKill, HistoryKind.Finished, "a", "n1", 1),
                At(40, HistoryKind.Fault, string.Empty, "n1", detail: "kill -9"),
                At(60, HistoryKind.Started, "a", "n2", 2),
                At(60.5, HistoryKind.Finished, "a", "n2", 2),
                At(100, HistoryKind.Final, "a", detail: "Succeeded"),
                At(100, HistoryKind.Recorded, "a", "n1", 1, stored),
                At(100, HistoryKind.Recorded, "a", "n2", 2, "Succeeded")
            )
        );
        Assert.Equal(explained, check.Valid);
        Assert.Equal(explained ? [] : ["a"], check.Unexplained);
        Assert.Equal(explained ? 1 : 0, check.InFlightAtFaults);
    }

    [Fact]
    public void AnAttemptAFrozenNodeFinishedAfterItResumed_WasInFlightAtTheFreeze()
    {
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n1", 1),
                At(2, HistoryKind.Fault, string.Empty, "n1", detail: "SIGSTOP"),
                At(20, HistoryKind.Started, "a", "n2", 2),
                At(21, HistoryKind.Finished, "a", "n2", 2),
                At(30, HistoryKind.Finished, "a", "n1", 1), // resumed: its handler ends late (its report is refused)
                At(100, HistoryKind.Final, "a", detail: "Succeeded")
            )
        );
        Assert.True(check.Valid, check.ToString());
        Assert.Equal(1, check.InFlightAtFaults);
        Assert.Equal(TimeSpan.FromSeconds(18), check.WorstRecovery);
    }

    [Fact]
    public void ANodeKilledTwice_CutsAnAttemptShortOnlyAtTheFirstKillAfterItStarted()
    {
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n1", 1),
                At(2, HistoryKind.Fault, string.Empty, "n1", detail: "kill -9"),
                At(10, HistoryKind.Started, "a", "n2", 2),
                At(10.5, HistoryKind.Finished, "a", "n2", 2),
                At(30, HistoryKind.Fault, string.Empty, "n1", detail: "kill -9"), // restarted under the same name, killed again
                At(100, HistoryKind.Final, "a", detail: "Succeeded")
            )
        );
        Assert.True(check.Valid, check.ToString());
        Assert.Equal(1, check.InFlightAtFaults);
        Assert.Equal([TimeSpan.FromSeconds(8), null], check.Recovery);
    }

    [Fact]
    public void AnAttemptAFrozenNodeFinishedItselfOnceBack_NeedsNoRecovery()
    {
        // Nobody took the frozen node's leases meanwhile: its late completion is the attempt's one run.
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n1", 1),
                At(2, HistoryKind.Fault, string.Empty, "n1", detail: "SIGSTOP"),
                At(30, HistoryKind.Finished, "a", "n1", 1),
                At(100, HistoryKind.Final, "a", detail: "Succeeded")
            )
        );
        Assert.True(check.Valid, check.ToString());
        Assert.Equal(1, check.InFlightAtFaults);
        Assert.Null(Assert.Single(check.Recovery));
    }

    [Fact]
    public void AStartOnAFrozenNodeAfterItResumed_IsUnexplained()
    {
        // A zombie: the node was stopped (SIGSTOP) at 2 s; a start it logs after the fault is no in-flight attempt.
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n2", 1),
                At(1.5, HistoryKind.Finished, "a", "n2", 1),
                At(2, HistoryKind.Fault, string.Empty, "n1", detail: "SIGSTOP"),
                At(40, HistoryKind.Started, "a", "n1", 2),
                At(100, HistoryKind.Final, "a", detail: "Succeeded")
            )
        );
        Assert.False(check.Valid);
        Assert.Equal(["a"], check.Unexplained);
    }

    [Fact]
    public void AnInFlightAttemptThatNeverRanAgain_HasNoRecovery()
    {
        var check = TotalQueueChecker.Check(
            Of(
                At(0, HistoryKind.Attempted, "a"),
                At(0.1, HistoryKind.Acknowledged, "a"),
                At(1, HistoryKind.Started, "a", "n1", 1),
                At(2, HistoryKind.Fault, string.Empty, "n1", detail: "kill -9"),
                At(100, HistoryKind.Final, "a", detail: "Running")
            )
        );
        Assert.False(check.Valid);
        Assert.Equal(["a"], check.Lost);
        Assert.Equal(TimeSpan.MaxValue, check.WorstRecovery);
    }

    [Fact]
    public void HandlerLogs_AreReadIntoStartsAndFinishes_SkippingALineCutShort()
    {
        var path = Path.GetTempFileName();
        try
        {
            var ms = T0.ToUnixTimeMilliseconds();
            File.WriteAllLines(path, [$"start {ms} a 1", $"end {ms + 100} a 1", $"start {ms + 200} b 2", "sta"]);
            var history = new History();
            history.AddHandlerLog("n1", path);
            Assert.Equal(
                [
                    new HistoryEvent(T0, HistoryKind.Started, "a", "n1", 1),
                    new HistoryEvent(T0.AddMilliseconds(100), HistoryKind.Finished, "a", "n1", 1),
                    new HistoryEvent(T0.AddMilliseconds(200), HistoryKind.Started, "b", "n1", 2),
                ],
                history.Events.OrderBy(e => e.At)
            );
        }
        finally
        {
            File.Delete(path);
        }
    }
}
