using Jobs.Client;

namespace Jobs.Actors.Hosting;

/// <summary>Called after every attempt ends. Register implementations in DI; errors are logged, never fatal.</summary>
public interface IJobObserver
{
    /// <summary>An attempt of <paramref name="job"/> ended with <paramref name="outcome"/>.</summary>
    Task OnAttemptEndedAsync(JobInfo job, AttemptOutcome outcome, CancellationToken cancellationToken);
}
