using Jobs.Runtime.Actors;
using Jobs.Runtime.Logging;

namespace Jobs.Runtime.Lifecycle;

/// <summary>
/// Runs shutdown tasks phase by phase: tasks of one phase run concurrently, the next phase starts when they
/// finish or the phase timeout passes; the whole run is bounded by the system's shutdown deadline. Safe to
/// call more than once: later calls return the first run.
/// </summary>
public sealed class CoordinatedShutdown
{
    private readonly ActorSystem _system;
    private readonly Lock _gate = new();
    private readonly List<(ShutdownPhase Phase, string Name, Func<CancellationToken, Task> Task)> _tasks = [];
    private Task? _run;

    internal CoordinatedShutdown(ActorSystem system)
    {
        _system = system;
    }

    /// <summary>The reason given to the first run, or null while the system runs.</summary>
    public string? Reason { get; private set; }

    /// <summary>Registers a task for a phase; its token is cancelled when the phase times out.</summary>
    public void AddTask(ShutdownPhase phase, string name, Func<CancellationToken, Task> task)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(task);
        lock (_gate)
        {
            if (_run is not null)
            {
                throw new InvalidOperationException($"Cannot add shutdown task '{name}': shutdown has already started");
            }

            _tasks.Add((phase, name, task));
        }
    }

    /// <summary>Starts (or joins) the shutdown and completes when it has finished.</summary>
    public Task RunAsync(string reason)
    {
        lock (_gate)
        {
            if (_run is null)
            {
                Reason = reason;
                _run = Task.Run(() => RunPhasesAsync(reason));
            }

            return _run;
        }
    }

    private async Task RunPhasesAsync(string reason)
    {
        var settings = _system.Settings;
        using var deadline = new CancellationTokenSource(settings.ShutdownDeadline, _system.TimeProvider);
        foreach (var phase in Enum.GetValues<ShutdownPhase>())
        {
            var tasks = _tasks.Where(t => t.Phase == phase).ToList();
            if (tasks.Count == 0)
            {
                continue;
            }

            _system.Log.ShutdownPhaseStarted(phase.ToString(), reason);
            using var phaseTimer = new CancellationTokenSource(settings.ShutdownPhaseTimeout, _system.TimeProvider);
            using var phaseTimeout = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, phaseTimer.Token);
            var running = tasks.Select(t => RunOneAsync(phase, t.Name, t.Task, phaseTimeout.Token)).ToArray();
            await Task.WhenAll(running).ConfigureAwait(false);
        }
    }

    private async Task RunOneAsync(ShutdownPhase phase, string name, Func<CancellationToken, Task> task, CancellationToken cancellationToken)
    {
        try
        {
            await task(cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _system.Log.ShutdownTaskTimedOut(name, phase.ToString(), _system.Settings.ShutdownPhaseTimeout);
        }
        catch (Exception ex)
        {
            _system.Log.ShutdownTaskFailed(ex, name, phase.ToString());
        }
    }
}
