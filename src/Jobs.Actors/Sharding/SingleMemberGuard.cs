using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Jobs.Actors.Sharding;

/// <summary>
/// On a node whose jobs live in this process (an embedded SQLite file, or memory), downs every other member that
/// joins its cluster: shards handed to such a member could not reach the jobs stored here.
/// </summary>
internal sealed class SingleMemberGuard : ReceiveActor
{
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    /// <summary>Watches membership.</summary>
    public SingleMemberGuard()
    {
        Receive<ClusterEvent.MemberJoined>(joined => Refuse(joined.Member));
        Receive<ClusterEvent.MemberUp>(up => Refuse(up.Member));
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            foreach (var member in state.Members)
            {
                Refuse(member);
            }
        });
    }

    /// <inheritdoc />
    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.InitialStateAsEvents, typeof(ClusterEvent.MemberJoined), typeof(ClusterEvent.MemberUp));

    /// <inheritdoc />
    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Refuse(Member member)
    {
        if (member.Address.Equals(_cluster.SelfAddress))
        {
            return;
        }

        Context
            .GetLogger()
            .Error(
                "Member {0} joined a node whose jobs are stored in this process (SQLite or memory); "
                    + "downing it. A cluster needs jobs.persistence.backend = postgresql on every node",
                member.Address
            );
        _cluster.Down(member.Address);
    }
}
