namespace Jobs.Client;

/// <summary>
/// The job system's whole API, the same in process (the node's own client) and over HTTP (the remote client): the
/// four narrower interfaces together. Inject the narrower one a component needs (each is registered beside this one).
/// Every call that changes a job returns only after the change is durable.
/// </summary>
public interface IJobsClient : IJobSchedulingClient, IJobMonitoringClient, IRecurringJobsClient, IJobsAdministrationClient;

/// <summary>Creates and changes jobs: schedule, cancel, reschedule, retry, destroy. Every call returns after the change is durable.</summary>
public interface IJobSchedulingClient
{
    /// <summary>Schedules a job; returns after it is stored. With a <see cref="ScheduleRequest.JobId"/>, repeating the call is safe.</summary>
    /// <exception cref="JobValidationException">A field is invalid (unknown kind, bad time, ...); nothing is stored.</exception>
    Task<ScheduleResult> ScheduleAsync(ScheduleRequest request, CancellationToken cancellationToken = default);

    /// <summary>Schedules many jobs; each item succeeds or fails on its own (failures carry the error).</summary>
    Task<IReadOnlyList<ScheduleManyItemResult>> ScheduleManyAsync(
        IReadOnlyList<ScheduleRequest> requests,
        CancellationToken cancellationToken = default
    );

    /// <summary>Cancels a job: a waiting job never runs; a running job's token is cancelled and it ends Cancelled.</summary>
    /// <exception cref="JobStateConflictException">The job already finished.</exception>
    Task CancelAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Cancels a job only if it is still at <paramref name="ifRevision"/> (see <see cref="JobInfo.Revision"/>).</summary>
    /// <exception cref="JobPreconditionFailedException">The job changed since that revision; nothing was done.</exception>
    Task CancelAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default);

    /// <summary>Moves a waiting job to another time only if it is still at <paramref name="ifRevision"/>.</summary>
    /// <exception cref="JobPreconditionFailedException">The job changed since that revision; nothing was done.</exception>
    Task RescheduleAsync(string jobId, DateTimeOffset runAt, long ifRevision, CancellationToken cancellationToken = default);

    /// <summary>Destroys a job only if it is still at <paramref name="ifRevision"/>.</summary>
    /// <exception cref="JobPreconditionFailedException">The job changed since that revision; nothing was done.</exception>
    Task DestroyAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default);

    /// <summary>Runs a failed or cancelled job again from now, with its attempts allowance renewed (its history stays).</summary>
    /// <exception cref="JobStateConflictException">The job has not failed or been cancelled.</exception>
    Task RetryAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Moves a waiting job to another time.</summary>
    /// <exception cref="JobStateConflictException">The job is running or finished.</exception>
    Task RescheduleAsync(string jobId, DateTimeOffset runAt, CancellationToken cancellationToken = default);

    /// <summary>Deletes a job and its history (a running attempt is cancelled); later lookups say not found.</summary>
    Task DestroyAsync(string jobId, CancellationToken cancellationToken = default);
}

/// <summary>Reads jobs: one job, counts, pages of jobs, and a live stream of their transitions.</summary>
public interface IJobMonitoringClient
{
    /// <summary>Everything known about a job.</summary>
    /// <exception cref="JobNotFoundException">No such job.</exception>
    Task<JobInfo> GetAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Counts jobs per status matching <paramref name="query"/> (its status filter is ignored).</summary>
    Task<IReadOnlyDictionary<JobStatus, long>> CountAsync(JobQuery query, CancellationToken cancellationToken = default);

    /// <summary>Lists jobs matching <paramref name="query"/>, highest priority first, a page at a time.</summary>
    Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams job transitions matching <paramref name="query"/> as they happen, until cancelled. Watching one job
    /// starts with its current state and ends after its final transition. A watcher that falls too far behind
    /// gets <see cref="JobsException"/> with code "watch-lagged" and should re-read state before watching again.
    /// </summary>
    /// <exception cref="JobNotFoundException">Watching one job that does not exist.</exception>
    IAsyncEnumerable<JobTransition> WatchAsync(WatchQuery query, CancellationToken cancellationToken = default);
}

/// <summary>Manages recurring schedules: create or replace, read, pause, resume, delete.</summary>
public interface IRecurringJobsClient
{
    /// <summary>Creates or replaces the recurring schedule <see cref="RecurringScheduleRequest.Name"/>; returns it after it is stored.</summary>
    /// <exception cref="JobValidationException">A field is invalid (cron, zone, kind, ...); nothing is stored.</exception>
    Task<RecurringScheduleInfo> SetRecurringAsync(RecurringScheduleRequest request, CancellationToken cancellationToken = default);

    /// <summary>A recurring schedule with its previous and next occurrence.</summary>
    /// <exception cref="RecurringNotFoundException">No such schedule.</exception>
    Task<RecurringScheduleInfo> GetRecurringAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every recurring schedule, by name.</summary>
    Task<IReadOnlyList<RecurringScheduleInfo>> ListRecurringAsync(CancellationToken cancellationToken = default);

    /// <summary>Pauses a recurring schedule: occurrences are skipped until it is resumed (jobs already created still run).</summary>
    Task PauseRecurringAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused recurring schedule from its next occurrence after now.</summary>
    Task ResumeRecurringAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a recurring schedule (jobs already created stay).</summary>
    Task DeleteRecurringAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>Operates the queues: their workers and backlog, pause and resume.</summary>
public interface IJobsAdministrationClient
{
    /// <summary>The queues with their workers, running jobs, backlog and pause state.</summary>
    Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>Pauses a queue (durably): its due jobs wait and running ones finish; scheduling still works.</summary>
    /// <exception cref="JobValidationException">No such queue.</exception>
    Task PauseQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused queue.</summary>
    /// <exception cref="JobValidationException">No such queue.</exception>
    Task ResumeQueueAsync(string queue, CancellationToken cancellationToken = default);
}
