using Jobs.Runtime.Logging;
using System.Runtime.CompilerServices;
using Jobs.Runtime.Dispatch;
using Jobs.Runtime.Events;
using Jobs.Runtime.Timers;

namespace Jobs.Runtime.Actors;

/// <summary>
/// One actor's runtime: its reference, mailbox, context and run loop in a single object, so an idle actor
/// costs this object, its queue's stub node, its instance and its path. Everything rarely used lives in
/// <see cref="CellExtras"/>, allocated on first use.
/// </summary>
internal sealed partial class ActorCell : IInternalActorRef, IActorContext, IThreadPoolWorkItem
{
    [ThreadStatic]
    private static ActorCell? s_current;

    [ThreadStatic]
    private static ActorCell? s_constructing;

    private const int StateAlive = 0;
    private const int StateTerminating = 1;
    private const int StateTerminated = 2;

    private readonly ActorSystem _system;
    private readonly ActorCell? _parent;
    private readonly Props _props;
    private readonly MessageQueue _queue;
    private SystemMessage? _systemHead;
    private int _scheduled;
    private volatile int _state;
    private bool _suspended;
    private bool _awaiting;
    private ActorBase? _actor;
    private Receive? _behavior;
    private Envelope _current;
    private CellExtras? _extras;

    public ActorCell(ActorSystem system, ActorCell? parent, Props props, ActorPath path)
    {
        _system = system;
        _parent = parent;
        _props = props;
        Path = path;
        _queue = MessageQueue.Create(props.Mailbox, OnDropped);
    }

    /// <summary>The cell whose turn is running on this thread, if any (implicit sender for Tell).</summary>
    internal static ActorCell? Current => s_current;

    /// <summary>The cell whose actor is being constructed on this thread.</summary>
    internal static ActorCell? Constructing => s_constructing;

    public ActorPath Path { get; }

    public bool IsTerminated => _state == StateTerminated;

    public IActorRef Self => this;

    public IActorRef Sender => _current.Sender ?? _system.DeadLetters;

    public IActorRef Parent => (IActorRef?)_parent ?? _system.DeadLetters;

    public ActorSystem System => _system;

    internal Props Props => _props;

    internal ActorBase? Actor => _actor;

    internal int NumberOfMessages => _queue.Count;

    /// <summary>True while the actor is processing or waiting on an async handler (used by smallest-mailbox routing).</summary>
    internal bool IsBusy => Volatile.Read(ref _scheduled) == 1;

    /// <summary>True while an async handler holds the turn (a routee that will not take work soon).</summary>
    internal bool IsAwaiting => Volatile.Read(ref _awaiting);

    public ITimerScheduler Timers => Extras.Timers ??= new TimerScheduler(this, _system.TimeProvider);

    private CellExtras Extras
    {
        get
        {
            var extras = Volatile.Read(ref _extras);
            if (extras is not null)
            {
                return extras;
            }

            Interlocked.CompareExchange(ref _extras, new CellExtras(), null);
            return _extras!;
        }
    }

    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_state == StateTerminated)
        {
            _system.DeadLetters.Tell(new DeadLetter(message, sender, this), sender);
            return;
        }

        if (_queue.TryEnqueue(new Envelope(message, sender)))
        {
            TrySchedule();
        }
    }

    public void SendSystemMessage(SystemMessage message)
    {
        SystemMessage? head;
        do
        {
            head = Volatile.Read(ref _systemHead);
            message.Next = head;
        }
        while (!ReferenceEquals(Interlocked.CompareExchange(ref _systemHead, message, head), head));

        TrySchedule();
    }

    public bool Equals(IActorRef? other) => ReferenceEquals(this, other);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => RuntimeHelpers.GetHashCode(this);

    public override string ToString() => Path.ToString();

    /// <summary>Called by the runtime right after the cell is registered with its parent.</summary>
    internal void Start() => SendSystemMessage(new Create());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TrySchedule()
    {
        if (Volatile.Read(ref _scheduled) == 0 && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        var previous = s_current;
        s_current = this;
        try
        {
            Run();
        }
        finally
        {
            s_current = previous;
        }
    }

    private void Run()
    {
        if (_awaiting)
        {
            // An async handler finished: its continuation re-queued us while we still held the turn.
            CompleteAwait();
        }

        ProcessSystemMessages();
        var budget = _props.Throughput ?? _system.Settings.Throughput;
        while (!_awaiting && budget-- > 0 && _state == StateAlive && !_suspended && TryDequeue(out var envelope))
        {
            Invoke(envelope);
            if (!_awaiting && Volatile.Read(ref _systemHead) is not null)
            {
                ProcessSystemMessages();
            }
        }

        if (_awaiting)
        {
            // Keep the turn: nothing else runs until the handler's task completes. The continuation is registered
            // only now, as the last thing this turn does, so it can never run concurrently with this turn.
            ResumeWhenAwaitedTaskCompletes();
            return;
        }

        if (_state == StateTerminated)
        {
            DrainToDeadLetters();
        }

        // A full fence (not a release write): the reads of the queues below must not move before this store,
        // or a producer that saw _scheduled == 1 and a consumer that saw empty queues would both walk away.
        Interlocked.Exchange(ref _scheduled, 0);
        if (Volatile.Read(ref _systemHead) is not null
            || (_state != StateTerminating && !_suspended && HasUserMessages()))
        {
            TrySchedule();
        }
    }

    private bool HasUserMessages() => _queue.HasMessages || _extras?.Prepended is { Count: > 0 };

    private bool TryDequeue(out Envelope envelope)
    {
        if (_extras?.Prepended is { Count: > 0 } prepended)
        {
            envelope = prepended.Dequeue();
            return true;
        }

        return _queue.TryDequeue(out envelope);
    }

    private void ProcessSystemMessages()
    {
        var stack = Interlocked.Exchange(ref _systemHead, null);
        if (stack is null)
        {
            return;
        }

        // The stack is newest-first; reverse it to process in arrival order.
        SystemMessage? ordered = null;
        while (stack is not null)
        {
            var next = stack.Next;
            stack.Next = ordered;
            ordered = stack;
            stack = next;
        }

        while (ordered is not null)
        {
            var message = ordered;
            ordered = ordered.Next;
            message.Next = null;
            try
            {
                HandleSystemMessage(message);
            }
            catch (Exception ex)
            {
                _system.Log.SystemMessageFailed(ex, Path.ToString(), message.GetType().Name);
            }
        }
    }

    private void HandleSystemMessage(SystemMessage message)
    {
        if (_state == StateTerminated)
        {
            if (message is Watch watch && !ReferenceEquals(watch.Watcher, this))
            {
                watch.Watcher.SendSystemMessage(new DeathWatchNotification(_extras?.ExternalRef ?? this));
            }

            return;
        }

        switch (message)
        {
            case Create:
                CreateActor();
                break;
            case Terminate:
                BeginTerminate();
                break;
            case Resume:
                _suspended = false;
                break;
            case Recreate recreate:
                BeginRecreate(recreate.Cause);
                break;
            case Failed failed:
                HandleChildFailure(failed.Child, failed.Cause);
                break;
            case ChildTerminated childTerminated:
                HandleChildTerminated(childTerminated.Child);
                break;
            case Watch watch:
                HandleWatch(watch);
                break;
            case Unwatch unwatch:
                HandleUnwatch(unwatch);
                break;
            case DeathWatchNotification notification:
                HandleDeathWatchNotification(notification.Actor);
                break;
        }
    }

    private void Invoke(in Envelope envelope)
    {
        _current = envelope;
        var influencesTimeout = envelope.Message is not INotInfluenceReceiveTimeout;
        try
        {
            var message = envelope.Message;
            switch (message)
            {
                case PoisonPill:
                    Stop(this);
                    break;
                case Kill:
                    throw new ActorKilledException();
                case Identify identify:
                    envelope.Sender?.Tell(new ActorIdentity(identify.MessageId, Self), Self);
                    break;
                case TimerScheduler.TimerMessage timer:
                    influencesTimeout = timer.Message is not INotInfluenceReceiveTimeout;
                    if (_extras?.Timers?.Accept(timer) == true)
                    {
                        Deliver(timer.Message);
                    }

                    break;
                case ReceiveTimeoutTick tick:
                    influencesTimeout = false;
                    if (_extras is { } extras && extras.ReceiveTimeout is not null && tick.Generation == extras.ReceiveTimeoutGeneration)
                    {
                        Deliver(Actors.ReceiveTimeout.Instance);
                    }

                    break;
                case Terminated terminated when terminated.Actor is IInternalActorRef:
                    // Delivered only if still wanted: an Unwatch after the notification was queued cancels it.
                    if (_extras?.TerminatedQueued?.Remove(terminated.Actor) == true)
                    {
                        Deliver(message);
                    }

                    break;
                default:
                    Deliver(message);
                    break;
            }
        }
        catch (Exception ex)
        {
            HandleInvokeFailure(ex);
        }
        finally
        {
            if (!_awaiting)
            {
                _current = default;
            }

            if (influencesTimeout && _extras?.ReceiveTimeout is not null)
            {
                RearmReceiveTimeout();
            }
        }
    }

    private void Deliver(object message)
    {
        var behavior = _behavior;
        if (behavior is null || !behavior(message))
        {
            _actor!.AroundUnhandled(message);
        }
    }

    /// <summary>Called from an actor's handler that returned an incomplete task: hold the turn until it completes.</summary>
    internal void HoldTurnUntil(Task task)
    {
        _awaiting = true;
        Extras.AwaitedTask = task;
    }

    private void ResumeWhenAwaitedTaskCompletes()
    {
        _extras!.AwaitedTask!.ContinueWith(
            static (_, state) => ThreadPool.UnsafeQueueUserWorkItem((ActorCell)state!, preferLocal: false),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void CompleteAwait()
    {
        var task = _extras!.AwaitedTask!;
        _extras.AwaitedTask = null;
        _awaiting = false;
        try
        {
            if (task.IsFaulted)
            {
                HandleInvokeFailure(task.Exception!.InnerExceptions.Count == 1 ? task.Exception.InnerException! : task.Exception);
            }
            else if (task.IsCanceled)
            {
                HandleInvokeFailure(new TaskCanceledException(task));
            }
        }
        finally
        {
            _current = default;
        }
    }

    /// <summary>Reports an unhandled message: Terminated becomes a death pact, anything else a dead letter-like event.</summary>
    internal void Unhandled(object message)
    {
        if (message is Terminated terminated)
        {
            throw new DeathPactException(terminated.Actor);
        }

        _system.EventStream.Publish(new UnhandledMessage(message, _current.Sender, this));
    }

    private void OnDropped(Envelope envelope) =>
        _system.DeadLetters.Tell(new DeadLetter(envelope.Message, envelope.Sender, this), envelope.Sender);

    private void DrainToDeadLetters()
    {
        while (TryDequeue(out var envelope))
        {
            if (envelope.Message is TimerScheduler.TimerMessage or ReceiveTimeoutTick)
            {
                continue;
            }

            OnDropped(envelope);
        }
    }

    private ActorBase NewActor()
    {
        var previous = s_constructing;
        s_constructing = this;
        try
        {
            var actor = _props.Factory();
            _behavior = actor.InitialBehavior;
            if (_extras is { } extras)
            {
                extras.BehaviorStack?.Clear();
            }

            return actor;
        }
        finally
        {
            s_constructing = previous;
        }
    }
}
