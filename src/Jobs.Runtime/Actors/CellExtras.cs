using Jobs.Runtime.Dispatch;
using Jobs.Runtime.Supervision;
using Jobs.Runtime.Timers;

namespace Jobs.Runtime.Actors;

/// <summary>The parts of a cell most actors never use; allocated on first use to keep idle actors small.</summary>
internal sealed class CellExtras
{
    public readonly Lock ChildrenLock = new();
    public Dictionary<string, ActorCell>? Children;
    public Dictionary<ActorCell, ChildRestartStats>? ChildStats;
    public HashSet<ActorCell>? StoppingChildren;
    public HashSet<IInternalActorRef>? Watchers;
    public HashSet<IInternalActorRef>? Watching;
    public HashSet<IActorRef>? TerminatedQueued;
    public Stack<Receive>? BehaviorStack;
    public LinkedList<Envelope>? Stash;
    public Queue<Envelope>? Prepended;
    public TimerScheduler? Timers;
    public TimeSpan? ReceiveTimeout;
    public int ReceiveTimeoutGeneration;
    public ITimer? ReceiveTimeoutTimer;
    public Task? AwaitedTask;
    public Exception? PendingRestartCause;
    public object? FailedMessage;
    public TaskCompletionSource? Terminated;
    public IInternalActorRef? ExternalRef; // the reference users hold when it is not the cell (pool routers)
}
