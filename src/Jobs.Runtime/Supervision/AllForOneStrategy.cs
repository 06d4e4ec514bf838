namespace Jobs.Runtime.Supervision;

/// <summary>Applies the directive to every child when one fails (for children that only make sense together).</summary>
/// <param name="maxRetries">Restarts allowed within <paramref name="window"/>; -1 for no limit.</param>
/// <param name="window">The counting window; null counts forever.</param>
/// <param name="decider">Maps an error to a directive; null uses the default decider.</param>
public sealed class AllForOneStrategy(int maxRetries = -1, TimeSpan? window = null, Func<Exception, Directive>? decider = null)
    : SupervisorStrategy(maxRetries, window, decider)
{
    /// <summary>A strategy with unlimited retries and the given decider.</summary>
    public AllForOneStrategy(Func<Exception, Directive> decider)
        : this(-1, null, decider)
    {
    }

    internal override bool AppliesToAllChildren => true;
}
