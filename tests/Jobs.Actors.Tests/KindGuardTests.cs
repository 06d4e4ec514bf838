using Akka.Actor;
using Jobs.Actors.Workers;

namespace Jobs.Actors.Tests;

/// <summary>The member's count of slots per capped kind, which every queue's pool asks before it admits such a job.</summary>
public sealed class KindGuardTests : Akka.TestKit.Xunit2.TestKit
{
    private IActorRef Guard(params (string Kind, int Cap)[] caps) =>
        Sys.ActorOf(Props.Create(() => new KindGuard(caps.ToDictionary(c => c.Kind, c => c.Cap, StringComparer.Ordinal))));

    [Fact]
    public async Task CappedKind_IsGrantedUpToItsCapAcrossPools_AndAgainOnceASlotIsReleased()
    {
        var guard = Guard(("report", 2));
        var poolA = CreateTestProbe();
        var poolB = CreateTestProbe();

        guard.Tell(new AcquireKind("a1", "report"), poolA.Ref);
        Assert.Equal(new KindGranted("a1", "report"), await poolA.ExpectMsgAsync<KindGranted>());
        guard.Tell(new AcquireKind("b1", "report"), poolB.Ref);
        await poolB.ExpectMsgAsync<KindGranted>();
        guard.Tell(new AcquireKind("b2", "report"), poolB.Ref);
        Assert.Equal(new KindRefused("b2"), await poolB.ExpectMsgAsync<KindRefused>());

        guard.Tell(new AcquireKind("e1", "email"), poolB.Ref); // not capped
        await poolB.ExpectMsgAsync<KindGranted>();

        guard.Tell(new ReleaseKind("report"), poolA.Ref);
        guard.Tell(new AcquireKind("b3", "report"), poolB.Ref);
        Assert.Equal("b3", (await poolB.ExpectMsgAsync<KindGranted>()).JobId);
    }

    [Fact]
    public async Task ForcedSlot_IsCountedOverTheCap_AndHoldsTheKindFullUntilReleased()
    {
        var guard = Guard(("report", 1));
        var pool = CreateTestProbe();
        guard.Tell(new AcquireKind("r1", "report"), pool.Ref);
        await pool.ExpectMsgAsync<KindGranted>();
        guard.Tell(new AcquireKind("r2", "report", Force: true), pool.Ref); // its start was durable: it runs anyway
        await pool.ExpectMsgAsync<KindGranted>();

        guard.Tell(new ReleaseKind("report"), pool.Ref);
        guard.Tell(new AcquireKind("r3", "report"), pool.Ref);
        await pool.ExpectMsgAsync<KindRefused>(); // r2 still runs: one of one

        guard.Tell(new ReleaseKind("report"), pool.Ref);
        guard.Tell(new AcquireKind("r4", "report"), pool.Ref);
        await pool.ExpectMsgAsync<KindGranted>();
    }

    [Fact]
    public async Task APoolThatStops_GivesBackWhatItHeld_AndAReleaseFromAnotherPoolFreesNothingOfIts()
    {
        var guard = Guard(("report", 2));
        var stopping = CreateTestProbe();
        var other = CreateTestProbe();
        guard.Tell(new AcquireKind("s1", "report"), stopping.Ref);
        await stopping.ExpectMsgAsync<KindGranted>();
        guard.Tell(new AcquireKind("o1", "report"), other.Ref);
        await other.ExpectMsgAsync<KindGranted>();

        guard.Tell(new ReleaseKind("report"), CreateTestProbe().Ref); // holds nothing: no effect
        guard.Tell(new AcquireKind("o2", "report"), other.Ref);
        await other.ExpectMsgAsync<KindRefused>();

        Sys.Stop(stopping.Ref);
        await AwaitAssertAsync(async () =>
        {
            guard.Tell(new AcquireKind("o3", "report"), other.Ref);
            await other.ExpectMsgAsync<KindGranted>(TimeSpan.FromMilliseconds(200));
        });
    }
}
