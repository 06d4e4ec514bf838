namespace Jobs.Actors.Tests;

/// <summary>
/// The tests that run several cluster members (in this process and as child processes) under load run one at a
/// time, and alone (after the tests that run in parallel): on a 2-core machine, side by side they starved each other
/// (a kill test took 2 min instead of 45 s) and the single-node tests beside them (asks timed out), and what they
/// measure (failure detection, lease renewal, recovery times) is timing.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTests
{
    /// <summary>The collection's name.</summary>
    public const string Name = "cluster members under load";
}
