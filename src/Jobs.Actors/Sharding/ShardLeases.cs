using Akka.Actor;
using Akka.Cluster;
using Akka.Coordination;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Leases;

namespace Jobs.Actors.Sharding;

/// <summary>
/// The lease each shard of this node holds in the database (taken by Akka's shard before its entities start,
/// <c>use-lease</c>), and the fence an entity's writes carry: a write is stored only while this node holds its
/// shard's lease at the epoch it was taken at, so a node that lost a shard (frozen, cut off, then back) cannot
/// store anything for that shard's jobs after another node took it over.
/// </summary>
internal sealed class ShardLeases(ActorSystem system, int shards)
{
    private readonly string _owner = Cluster.Get(system).SelfAddress.HostPort();

    /// <summary>The lease of the shard of <paramref name="entityId"/> in region <paramref name="typeName"/> (the instance the shard took).</summary>
    public DatabaseLease LeaseOf(string typeName, string entityId) =>
        (DatabaseLease)
            LeaseProvider.Get(system).GetLease(NameOf(system.Name, typeName, JobShards.ShardOf(entityId, shards)), DatabaseLease.ConfigPath, _owner);

    /// <summary>The fence of a write of <paramref name="entityId"/>'s entity.</summary>
    public WriteFence FenceOf(string typeName, string entityId) => LeaseOf(typeName, entityId).Fence;

    /// <summary>The name a shard's lease has: the one Akka's shard gives it.</summary>
    public static string NameOf(string systemName, string typeName, int shard) => $"{systemName}-shard-{typeName}-{shard}";
}
