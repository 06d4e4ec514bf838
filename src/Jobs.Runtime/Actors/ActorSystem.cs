using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Jobs.Runtime.Events;
using Jobs.Runtime.Lifecycle;
using Jobs.Runtime.Logging;
using Jobs.Runtime.Routing;
using Microsoft.Extensions.Logging;

namespace Jobs.Runtime.Actors;

/// <summary>
/// A named hierarchy of actors: <c>/user</c> for application actors, <c>/system</c> for the runtime's own.
/// Stopped with <see cref="TerminateAsync"/>, which runs the coordinated-shutdown phases in order.
/// </summary>
public sealed partial class ActorSystem : IAsyncDisposable
{
    private readonly ActorCell _root;
    private readonly ActorCell _userGuardian;
    private readonly ActorCell _systemGuardian;
    private readonly DeadLetterActorRef _deadLetters;
    private readonly ConcurrentDictionary<Type, object> _extensions = new();
    private int _uid;

    private ActorSystem(string name, ActorSystemSettings settings)
    {
        Name = name;
        Settings = settings;
        LoggerFactory = settings.LoggerFactory;
        Log = LoggerFactory.CreateLogger("Jobs.Runtime.ActorSystem");
        EventStream = new EventStream();
        var rootPath = new ActorPath(name, string.Empty);
        _deadLetters = new DeadLetterActorRef(this, new ActorPath(rootPath, "deadLetters", 0));
        _root = new ActorCell(this, null, Props.Create(static () => new GuardianActor()), rootPath);
        _root.Start();
        _userGuardian = _root.CreateChild(Props.Create(static () => new GuardianActor()), "user");
        _userGuardian.Start();
        _systemGuardian = _root.CreateChild(Props.Create(static () => new GuardianActor()), "system");
        _systemGuardian.Start();
        CoordinatedShutdown = new CoordinatedShutdown(this);
        CoordinatedShutdown.AddTask(ShutdownPhase.ActorSystemTerminate, "stop-actors", StopGuardiansAsync);
        Log.SystemStarted(name);
    }

    /// <summary>The system's name, the first element of every path.</summary>
    public string Name { get; }

    /// <summary>The settings the system was created with.</summary>
    public ActorSystemSettings Settings { get; }

    /// <summary>The logger factory actors and the runtime log through.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The clock for timers and timeouts.</summary>
    public TimeProvider TimeProvider => Settings.TimeProvider;

    /// <summary>The bus for system events such as <see cref="DeadLetter"/>.</summary>
    public EventStream EventStream { get; }

    /// <summary>The sink for undeliverable messages.</summary>
    public IActorRef DeadLetters => _deadLetters;

    /// <summary>How many dead letters the system has seen.</summary>
    public long DeadLetterCount => _deadLetters.Count;

    /// <summary>The ordered shutdown of this system: add tasks to its phases.</summary>
    public CoordinatedShutdown CoordinatedShutdown { get; }

    /// <summary>Completes when every actor has stopped.</summary>
    public Task WhenTerminated => _root.WhenTerminated;

    internal ILogger Log { get; }

    /// <summary>Creates and starts a system.</summary>
    /// <param name="name">Letters, digits, '-' and '_' only; it appears in every actor path.</param>
    /// <param name="settings">Settings; null for the defaults.</param>
    public static ActorSystem Create(string name, ActorSystemSettings? settings = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!SystemNamePattern().IsMatch(name))
        {
            throw new ArgumentException($"Actor system name '{name}' may contain only letters, digits, '-' and '_'", nameof(name));
        }

        return new ActorSystem(name, (settings ?? new ActorSystemSettings()).Validate());
    }

    /// <summary>Creates a top-level actor under <c>/user</c>.</summary>
    /// <param name="props">The recipe.</param>
    /// <param name="name">A unique name among top-level actors; null generates one.</param>
    public IActorRef ActorOf(Props props, string? name = null) => Spawn(_userGuardian, props, name);

    /// <summary>Creates a runtime-owned actor under <c>/system</c> (stopped after user actors at shutdown).</summary>
    public IActorRef SystemActorOf(Props props, string? name = null) => Spawn(_systemGuardian, props, name);

    /// <summary>Stops an actor; messages already queued for it go to dead letters.</summary>
    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is IInternalActorRef target)
        {
            target.SendSystemMessage(new Terminate());
        }
    }

    /// <summary>Attaches a system-wide service (persistence, cluster) so actors can find it; one per type.</summary>
    /// <exception cref="InvalidOperationException">An extension of this type is already registered.</exception>
    public T RegisterExtension<T>(T extension)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(extension);
        return _extensions.TryAdd(typeof(T), extension)
            ? extension
            : throw new InvalidOperationException($"an extension of type {typeof(T).Name} is already registered with actor system '{Name}'");
    }

    /// <summary>The registered extension of type <typeparamref name="T"/>, or null.</summary>
    public T? GetExtension<T>()
        where T : class => _extensions.TryGetValue(typeof(T), out var extension) ? (T)extension : null;

    /// <summary>Runs coordinated shutdown (every phase, in order, within the deadline) and waits until all actors stopped.</summary>
    public Task TerminateAsync(string reason = "terminate requested") => CoordinatedShutdown.RunAsync(reason);

    /// <summary>Same as <see cref="TerminateAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await TerminateAsync("disposed").ConfigureAwait(false);

    internal int NextUid() => Interlocked.Increment(ref _uid);

    internal IActorRef Spawn(ActorCell parent, Props props, string? name)
    {
        ArgumentNullException.ThrowIfNull(props);
        if (props.Router is { } pool)
        {
            return RouterFactory.Create(parent, props, pool, name);
        }

        var child = parent.CreateChild(props, name);
        child.Start();
        return child;
    }

    private async Task StopGuardiansAsync(CancellationToken cancellationToken)
    {
        // User actors first (children stop before parents), then the runtime's own, then the root.
        _userGuardian.SendSystemMessage(new Terminate());
        await _userGuardian.WhenTerminated.WaitAsync(cancellationToken).ConfigureAwait(false);
        _systemGuardian.SendSystemMessage(new Terminate());
        await _systemGuardian.WhenTerminated.WaitAsync(cancellationToken).ConfigureAwait(false);
        _root.SendSystemMessage(new Terminate());
        await _root.WhenTerminated.WaitAsync(cancellationToken).ConfigureAwait(false);
        Log.SystemTerminated(Name);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex SystemNamePattern();

    /// <summary>The actor behind /, /user and /system: supervises with the default strategy, handles nothing.</summary>
    private sealed class GuardianActor : ActorBase
    {
        protected override bool Receive(object message) => false;
    }
}
