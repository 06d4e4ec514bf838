using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Supervision;

/// <summary>Decides what happens to children that fail, with a limit on restarts within a time window.</summary>
public abstract class SupervisorStrategy
{
    /// <summary>Creates a strategy.</summary>
    /// <param name="maxRetries">Restarts allowed within <paramref name="window"/>; -1 for no limit. Past it the child is stopped.</param>
    /// <param name="window">The window over which restarts are counted; null counts them forever.</param>
    /// <param name="decider">Maps an error to a directive; null uses <see cref="DefaultDecider"/>.</param>
    protected SupervisorStrategy(int maxRetries, TimeSpan? window, Func<Exception, Directive>? decider)
    {
        if (maxRetries < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRetries), maxRetries, "maxRetries must be -1 (unlimited) or >= 0");
        }

        if (window is { } w && w <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "window must be positive");
        }

        MaxRetries = maxRetries;
        Window = window;
        Decider = decider ?? DefaultDecider;
    }

    /// <summary>Akka's default: stop on initialization failure, kill or death pact; restart on anything else; unlimited retries.</summary>
    public static SupervisorStrategy Default { get; } = new OneForOneStrategy(-1, null, null);

    /// <summary>A strategy that stops any failing child.</summary>
    public static SupervisorStrategy StoppingStrategy { get; } = new OneForOneStrategy(-1, null, static _ => Directive.Stop);

    /// <summary>Restarts allowed within <see cref="Window"/>; -1 means unlimited.</summary>
    public int MaxRetries { get; }

    /// <summary>The window restarts are counted in; null means forever.</summary>
    public TimeSpan? Window { get; }

    /// <summary>Maps an error to a directive.</summary>
    public Func<Exception, Directive> Decider { get; }

    /// <summary>The default decider (see <see cref="Default"/>).</summary>
    public static Directive DefaultDecider(Exception error) => error switch
    {
        ActorInitializationException or ActorKilledException or DeathPactException => Directive.Stop,
        _ => Directive.Restart,
    };

    /// <summary>True when the directive applies to every child, not only the failed one.</summary>
    internal abstract bool AppliesToAllChildren { get; }

    /// <summary>Counts one more restart for a child and says whether it is still allowed.</summary>
    internal bool RequestRestartPermission(ChildRestartStats stats, long nowTicks)
    {
        if (MaxRetries < 0)
        {
            return true;
        }

        if (Window is { } window)
        {
            if (stats.WindowStartTicks == 0 || nowTicks - stats.WindowStartTicks > window.Ticks)
            {
                stats.WindowStartTicks = nowTicks;
                stats.RestartCount = 0;
            }
        }

        stats.RestartCount++;
        return stats.RestartCount <= MaxRetries;
    }
}
