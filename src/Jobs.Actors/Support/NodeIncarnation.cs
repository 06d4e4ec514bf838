using Akka.Actor;
using Akka.Cluster;

namespace Jobs.Actors.Support;

/// <summary>
/// An attempt's incarnation: the cluster member that started it, as "address#uid". The uid is new every time a node's
/// actor system starts, so a node restarted on the same host and port is another incarnation, and an attempt of its
/// previous life is recognised as lost.
/// </summary>
internal static class NodeIncarnation
{
    /// <summary>The incarnation string of <paramref name="node"/>.</summary>
    public static string Of(UniqueAddress node) => $"{node.Address}#{node.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The address of the member that is <paramref name="incarnation"/>, when it is still a member of the cluster
    /// (joining, up, leaving or exiting, reachable or not: it has not been removed); otherwise null, and what it ran is lost.
    /// </summary>
    public static Address? LiveMember(ActorSystem system, string? incarnation)
    {
        if (incarnation is null || incarnation.LastIndexOf('#') is var hash and < 0)
        {
            return null;
        }

        foreach (var member in Cluster.Get(system).State.Members)
        {
            if (
                member.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting
                && string.Equals(Of(member.UniqueAddress), incarnation, StringComparison.Ordinal)
            )
            {
                return member.Address;
            }
        }

        return null;
    }
}
