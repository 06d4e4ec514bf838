namespace Jobs.Client;

/// <summary>The outcome of a schedule call.</summary>
/// <param name="JobId">The job's id.</param>
/// <param name="AlreadyExisted">True when a job with this id (or unique key) already existed: the request created nothing.</param>
/// <param name="Replaced">True when an existing waiting job took this request's payload, time and priority (<see
/// cref="UniqueConflict.Replace"/>).</param>
public sealed record ScheduleResult(string JobId, bool AlreadyExisted, bool Replaced = false);
