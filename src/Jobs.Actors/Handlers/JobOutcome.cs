using System.Text.Json;

namespace Jobs.Actors.Handlers;

/// <summary>What a handler says happened, as a value (not an exception). A thrown exception is a failed attempt.</summary>
public abstract record JobOutcome
{
    private protected JobOutcome() { }

    /// <summary>The job succeeded; <paramref name="result"/> (any JSON value) is stored with it.</summary>
    public static JobOutcome Success(JsonElement? result = null) => new Succeeded(result);

    /// <summary>The job succeeded with a result serialized from <paramref name="result"/>.</summary>
    public static JobOutcome Success<T>(T result, JsonSerializerOptions? options = null) =>
        new Succeeded(JsonSerializer.SerializeToElement(result, options ?? JsonSerializerOptions.Web));

    /// <summary>This attempt failed; try again at <paramref name="at"/> (counts as an attempt).</summary>
    public static JobOutcome RetryAt(DateTimeOffset at, string reason) => new Retry(at, reason);

    /// <summary>This attempt failed and must not be retried.</summary>
    public static JobOutcome Fail(string reason) => new FailedPermanently(reason);

    /// <summary>Not now: run again after <paramref name="delay"/>, without counting an attempt (a snooze).</summary>
    public static JobOutcome Snooze(TimeSpan delay) => new Snoozed(delay);

    /// <summary>Success.</summary>
    public sealed record Succeeded(JsonElement? Result) : JobOutcome;

    /// <summary>Failure with a retry time.</summary>
    public sealed record Retry(DateTimeOffset At, string Reason) : JobOutcome;

    /// <summary>Permanent failure.</summary>
    public sealed record FailedPermanently(string Reason) : JobOutcome;

    /// <summary>Run again later, not counted.</summary>
    public sealed record Snoozed(TimeSpan Delay) : JobOutcome;
}
