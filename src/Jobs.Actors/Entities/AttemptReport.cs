namespace Jobs.Actors.Entities;

/// <summary>What happened to one attempt, as observed by the worker (or by recovery).</summary>
internal abstract record AttemptReport
{
    public sealed record Succeeded(string? Result) : AttemptReport;

    public sealed record Threw(string Error, string? StackTrace) : AttemptReport;

    public sealed record RetryAt(DateTimeOffset At, string Reason) : AttemptReport;

    public sealed record FailedPermanently(string Reason) : AttemptReport;

    public sealed record Snoozed(TimeSpan Delay) : AttemptReport;

    public sealed record TimedOut(string Detail) : AttemptReport;

    public sealed record Lost(string Detail) : AttemptReport;

    public sealed record Interrupted(string Detail) : AttemptReport;
}
