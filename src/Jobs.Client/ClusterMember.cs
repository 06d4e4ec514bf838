namespace Jobs.Client;

/// <summary>One member of the cluster the node belongs to, as that node sees it.</summary>
/// <param name="Address">The member's cluster address (akka.tcp://system@host:port).</param>
/// <param name="Status">Its membership status: Joining, WeaklyUp, Up, Leaving, Exiting, Down or Removed.</param>
/// <param name="Reachable">False while the failure detector finds it unreachable.</param>
/// <param name="Roles">Its cluster roles.</param>
/// <param name="Self">True for the node that answered.</param>
/// <param name="Scheduler">True for the member that runs the scheduler (the cluster singleton: the oldest member).</param>
/// <param name="Shards">Job shards it hosts, or null when its region did not answer in time.</param>
/// <param name="Jobs">Job entities it has in memory, or null when its region did not answer in time.</param>
/// <param name="Running">Attempts its workers run now, or null when its pools did not answer in time.</param>
public sealed record ClusterMember(
    string Address,
    string Status,
    bool Reachable,
    IReadOnlyList<string> Roles,
    bool Self,
    bool Scheduler,
    int? Shards,
    int? Jobs,
    int? Running
);
