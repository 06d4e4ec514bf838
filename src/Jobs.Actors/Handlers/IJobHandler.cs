namespace Jobs.Actors.Handlers;

/// <summary>Runs jobs whose payload is a <typeparamref name="TPayload"/>. Resolved from DI in a fresh scope per attempt.</summary>
/// <typeparam name="TPayload">The payload type; its JSON comes from the schedule request.</typeparam>
public interface IJobHandler<in TPayload>
{
    /// <summary>Runs one attempt. Return an outcome; a thrown exception is a failed attempt (retried per policy).</summary>
    /// <param name="payload">The job's payload.</param>
    /// <param name="context">The attempt: ids, times, node, and the token cancelled on timeout, cancel and shutdown.</param>
    Task<JobOutcome> HandleAsync(TPayload payload, JobContext context);
}
