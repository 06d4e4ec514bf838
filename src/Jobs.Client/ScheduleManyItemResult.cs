namespace Jobs.Client;

/// <summary>The result of one item of a batch schedule.</summary>
/// <param name="Index">The item's position in the request.</param>
/// <param name="Result">The scheduled job, or null when the item failed.</param>
/// <param name="Error">Why the item failed, or null.</param>
public sealed record ScheduleManyItemResult(int Index, ScheduleResult? Result, JobsException? Error);
