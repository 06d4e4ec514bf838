namespace Jobs.Client;

/// <summary>One attempt at running a job.</summary>
/// <param name="Number">1 for the first attempt.</param>
/// <param name="Node">The node that ran it.</param>
/// <param name="StartedAt">When the handler started.</param>
/// <param name="EndedAt">When it ended, or null while running.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Error">The error message, if it failed.</param>
/// <param name="StackTrace">The error's stack trace, if any.</param>
public sealed record AttemptInfo(
    int Number,
    string Node,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    AttemptOutcome Outcome,
    string? Error,
    string? StackTrace
);
