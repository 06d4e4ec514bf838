using System.Collections.Concurrent;
using System.Diagnostics;

namespace Jobs.Testing;

/// <summary>Records every activity of the named sources once it stops (sampling all of them), until disposed.</summary>
public sealed class ActivityRecorder : IDisposable
{
    private readonly ActivityListener _listener;

    /// <summary>Starts recording the sources named.</summary>
    public ActivityRecorder(params string[] sources)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => sources.Contains(s.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The activities that stopped so far, in order.</summary>
    public ConcurrentQueue<Activity> Stopped { get; } = new();

    /// <summary>The stopped activities whose <c>job.id</c> tag is one of <paramref name="jobIds"/>.</summary>
    public IReadOnlyList<Activity> OfJobs(params string[] jobIds) =>
        [.. Stopped.Where(a => a.GetTagItem("job.id") is string id && jobIds.Contains(id))];

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
