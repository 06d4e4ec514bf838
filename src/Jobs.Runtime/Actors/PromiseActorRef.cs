using System.Runtime.CompilerServices;

namespace Jobs.Runtime.Actors;

/// <summary>The temporary reply address of one ask: completes on the first reply or on the target's death.</summary>
internal sealed class PromiseActorRef(ActorSystem system, ActorPath path, ActorPath target) : IInternalActorRef
{
    private readonly TaskCompletionSource<object> _promise = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ActorPath Path { get; } = path;

    public ActorSystem System { get; } = system;

    public bool IsTerminated => _promise.Task.IsCompleted;

    public Task<object> Task => _promise.Task;

    public void Tell(object message, IActorRef? sender)
    {
        if (message is StatusFailure failure)
        {
            _promise.TrySetException(failure.Cause);
        }
        else if (!_promise.TrySetResult(message))
        {
            System.DeadLetters.Tell(message, sender);
        }
    }

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is DeathWatchNotification)
        {
            _promise.TrySetException(new AskTargetTerminatedException(target));
        }
    }

    public bool Equals(IActorRef? other) => ReferenceEquals(this, other);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => RuntimeHelpers.GetHashCode(this);

    public override string ToString() => Path.ToString();
}
