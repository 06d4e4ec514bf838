using Jobs.Runtime.Actors;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Actors;

public sealed class IdentifyTests : ActorTestKit
{
    [Fact]
    public async Task Identify_IsAnsweredByTheCellNotTheBehaviour()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        var identity = await echo.Ask<ActorIdentity>(new Identify(42), TimeSpan.FromSeconds(3));
        Assert.Equal(42, identity.MessageId);
        Assert.Equal(echo, identity.Subject);
    }

    [Fact]
    public async Task Identify_IsNotAnsweredWhileTheActorIsStuck()
    {
        using var release = new ManualResetEventSlim();
        var stuck = Sys.ActorOf(Props.Create(() => new BlockingActor(release)));
        stuck.Tell("block");
        await Assert.ThrowsAsync<AskTimeoutException>(() => stuck.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromMilliseconds(200)));
        release.Set();
        var identity = await stuck.Ask<ActorIdentity>(new Identify("again"), TimeSpan.FromSeconds(3));
        Assert.Equal("again", identity.MessageId);
    }

    private sealed class BlockingActor(ManualResetEventSlim release) : ActorBase
    {
        protected override bool Receive(object message)
        {
            release.Wait(TimeSpan.FromSeconds(10));
            return true;
        }
    }
}
