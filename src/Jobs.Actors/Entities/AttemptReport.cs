using System.Text.Json.Serialization;

namespace Jobs.Actors.Entities;

/// <summary>What happened to one attempt, as observed by the worker (or by recovery); sent between nodes with a "kind" name.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(Succeeded), "succeeded")]
[JsonDerivedType(typeof(Threw), "threw")]
[JsonDerivedType(typeof(RetryAt), "retry-at")]
[JsonDerivedType(typeof(FailedPermanently), "failed-permanently")]
[JsonDerivedType(typeof(Snoozed), "snoozed")]
[JsonDerivedType(typeof(TimedOut), "timed-out")]
[JsonDerivedType(typeof(Lost), "lost")]
[JsonDerivedType(typeof(Interrupted), "interrupted")]
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
