namespace Jobs.Client;

/// <summary>The outcome of a schedule call.</summary>
/// <param name="JobId">The job's id.</param>
/// <param name="AlreadyExisted">True when a job with this id already existed (the request changed nothing).</param>
public sealed record ScheduleResult(string JobId, bool AlreadyExisted);
