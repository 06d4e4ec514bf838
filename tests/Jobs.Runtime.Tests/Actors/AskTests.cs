using Jobs.Runtime.Actors;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Actors;

public sealed class AskTests : ActorTestKit
{
    [Fact]
    public async Task Ask_ReplyOfExpectedType_ReturnsIt()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        var reply = await echo.Ask<string>("hello", TimeSpan.FromSeconds(3));
        Assert.Equal("hello", reply);
    }

    [Fact]
    public async Task Ask_NoReply_ThrowsAskTimeoutNamingTarget()
    {
        var silent = CreateTestProbe();
        var error = await Assert.ThrowsAsync<AskTimeoutException>(() => silent.Ref.Ask<string>("anyone?", TimeSpan.FromMilliseconds(100)));
        Assert.Equal(silent.Ref.Path, error.Target);
        Assert.Contains(silent.Ref.Path.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ask_TargetAlreadyStopped_ThrowsTargetTerminated()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        await TestActor.WatchAsync(echo);
        Sys.Stop(echo);
        await TestActor.ExpectTerminatedAsync(echo);
        await Assert.ThrowsAsync<AskTargetTerminatedException>(() => echo.Ask<string>("late", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Ask_TargetStopsBeforeReplying_ThrowsTargetTerminated()
    {
        var probe = CreateTestProbe();
        var ask = probe.Ref.Ask<string>("question", TimeSpan.FromSeconds(5));
        await probe.ExpectMsgAsync<string>("question");
        probe.Stop();
        await Assert.ThrowsAsync<AskTargetTerminatedException>(() => ask);
    }

    [Fact]
    public async Task Ask_StatusFailureReply_ThrowsTheCause()
    {
        var probe = CreateTestProbe();
        var ask = probe.Ref.Ask<string>("question", TimeSpan.FromSeconds(5));
        await probe.ExpectMsgAsync<string>("question");
        probe.Reply(new StatusFailure(new InvalidOperationException("nope")));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ask);
        Assert.Equal("nope", error.Message);
    }

    [Fact]
    public async Task Ask_ReplyOfOtherType_ThrowsAskReplyTypeException()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        var error = await Assert.ThrowsAsync<AskReplyTypeException>(() => echo.Ask<int>("not an int", TimeSpan.FromSeconds(3)));
        Assert.Equal("not an int", error.Reply);
    }

    [Fact]
    public async Task Ask_Cancelled_ThrowsOperationCanceled()
    {
        var silent = CreateTestProbe();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => silent.Ref.Ask<string>("x", TimeSpan.FromSeconds(30), cts.Token));
    }

    [Fact]
    public async Task Forward_KeepsOriginalSender()
    {
        var final = CreateTestProbe();
        var forwarder = Sys.ActorOf(Props.Create(() => new ForwardingActor(final.Ref)));
        TestActor.Send(forwarder, "via");
        await final.ExpectMsgAsync<string>("via");
        Assert.Equal(TestActor.Ref, final.LastSender);
    }

    private sealed class ForwardingActor(IActorRef target) : ActorBase
    {
        protected override bool Receive(object message)
        {
            target.Forward(message, Context);
            return true;
        }
    }
}
