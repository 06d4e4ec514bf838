using System.Diagnostics;
using System.Threading.Channels;
using Jobs.Runtime.Actors;

namespace Jobs.TestKit;

/// <summary>
/// An actor whose received messages a test inspects: <see cref="ExpectMsgAsync{T}(Predicate{T}?, TimeSpan?, CancellationToken)"/>,
/// <see cref="ExpectNoMsgAsync"/>, <see cref="FishForMessageAsync{T}"/>, <see cref="ReceiveWhileAsync{T}"/>. Pass <see cref="Ref"/>
/// wherever an actor reference is wanted.
/// </summary>
public sealed class TestProbe
{
    private readonly Channel<(object Message, IActorRef Sender)> _received = Channel.CreateUnbounded<(object, IActorRef)>();
    private readonly TestKitSettings _settings;
    private readonly ActorSystem _system;

    /// <summary>Creates a probe in <paramref name="system"/>.</summary>
    public TestProbe(ActorSystem system, TestKitSettings? settings = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;
        _settings = settings ?? TestKitSettings.FromEnvironment();
        Ref = system.ActorOf(Props.Create(() => new ProbeActor(_received.Writer)), name);
        LastSender = system.DeadLetters;
    }

    /// <summary>The probe's actor reference.</summary>
    public IActorRef Ref { get; }

    /// <summary>The sender of the last message taken by an expectation.</summary>
    public IActorRef LastSender { get; private set; }

    /// <summary>Sends <paramref name="message"/> to <paramref name="target"/> with this probe as sender.</summary>
    public void Send(IActorRef target, object message)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, Ref);
    }

    /// <summary>Replies to <see cref="LastSender"/> with this probe as sender.</summary>
    public void Reply(object message) => LastSender.Tell(message, Ref);

    /// <summary>Sends <paramref name="message"/> to <paramref name="target"/> keeping <see cref="LastSender"/> as sender.</summary>
    public void Forward(IActorRef target, object message)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, LastSender);
    }

    /// <summary>Makes the probe watch <paramref name="target"/>; expect its <see cref="Terminated"/> with <see cref="ExpectTerminatedAsync"/>.</summary>
    public async Task WatchAsync(IActorRef target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        await Ref.Ask<ProbeActor.Watching>(new ProbeActor.WatchCommand(target), _settings.Dilated(_settings.DefaultTimeout), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Expects the <see cref="Terminated"/> of a watched actor.</summary>
    public Task<Terminated> ExpectTerminatedAsync(IActorRef target, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExpectMsgAsync<Terminated>(t => t.Actor.Equals(target), timeout, cancellationToken);

    /// <summary>Expects the next message to be a <typeparamref name="T"/> matching <paramref name="predicate"/>; returns it.</summary>
    public async Task<T> ExpectMsgAsync<T>(Predicate<T>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Dilate(timeout, _settings.DefaultTimeout);
        var (message, sender) = await NextAsync(wait, cancellationToken).ConfigureAwait(false)
            ?? throw new TestKitAssertionException($"Timeout ({wait}) while waiting for a {typeof(T).Name}");
        LastSender = sender;
        if (message is not T typed)
        {
            throw new TestKitAssertionException($"Expected a {typeof(T).Name} but received {Describe(message)}");
        }

        if (predicate is not null && !predicate(typed))
        {
            throw new TestKitAssertionException($"Received {Describe(message)}, which does not match the expectation");
        }

        return typed;
    }

    /// <summary>Expects the next message to equal <paramref name="expected"/>.</summary>
    public async Task<T> ExpectMsgAsync<T>(T expected, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where T : notnull
    {
        var wait = Dilate(timeout, _settings.DefaultTimeout);
        var (message, sender) = await NextAsync(wait, cancellationToken).ConfigureAwait(false)
            ?? throw new TestKitAssertionException($"Timeout ({wait}) while waiting for {Describe(expected)}");
        LastSender = sender;
        return message is T typed && EqualityComparer<T>.Default.Equals(typed, expected)
            ? typed
            : throw new TestKitAssertionException($"Expected {Describe(expected)} but received {Describe(message)}");
    }

    /// <summary>Expects no message for <paramref name="duration"/>.</summary>
    public async Task ExpectNoMsgAsync(TimeSpan? duration = null, CancellationToken cancellationToken = default)
    {
        var wait = Dilate(duration, _settings.DefaultNoMessageWait);
        if (await NextAsync(wait, cancellationToken).ConfigureAwait(false) is { } unexpected)
        {
            throw new TestKitAssertionException($"Expected no message for {wait} but received {Describe(unexpected.Message)}");
        }
    }

    /// <summary>Skips messages until one of type <typeparamref name="T"/> matches <paramref name="isTheOne"/>; returns it.</summary>
    public async Task<T> FishForMessageAsync<T>(Predicate<T> isTheOne, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(isTheOne);
        var wait = Dilate(timeout, _settings.DefaultTimeout);
        var clock = Stopwatch.StartNew();
        var skipped = new List<object>();
        while (true)
        {
            var remaining = wait - clock.Elapsed;
            var next = remaining > TimeSpan.Zero ? await NextAsync(remaining, cancellationToken).ConfigureAwait(false) : null;
            if (next is not { } received)
            {
                throw new TestKitAssertionException(
                    $"Timeout ({wait}) fishing for a {typeof(T).Name}; skipped: [{string.Join(", ", skipped.Select(Describe))}]");
            }

            LastSender = received.Sender;
            if (received.Message is T typed && isTheOne(typed))
            {
                return typed;
            }

            skipped.Add(received.Message);
        }
    }

    /// <summary>Takes messages while they are <typeparamref name="T"/> and match, up to <paramref name="maxMessages"/> or until <paramref name="max"/> passes or <paramref name="idle"/> passes without one.</summary>
    public async Task<IReadOnlyList<T>> ReceiveWhileAsync<T>(Predicate<T> predicate, TimeSpan? max = null, TimeSpan? idle = null, int maxMessages = int.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var wait = Dilate(max, _settings.DefaultTimeout);
        var idleWait = idle is { } i ? _settings.Dilated(i) : wait;
        var clock = Stopwatch.StartNew();
        var taken = new List<T>();
        while (taken.Count < maxMessages)
        {
            var remaining = wait - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            if (!_received.Reader.TryPeek(out var peeked))
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(remaining < idleWait ? remaining : idleWait);
                try
                {
                    await _received.Reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                continue;
            }

            if (peeked.Message is not T typed || !predicate(typed))
            {
                break;
            }

            _received.Reader.TryRead(out _);
            LastSender = peeked.Sender;
            taken.Add(typed);
        }

        return taken;
    }

    /// <summary>Takes exactly <paramref name="count"/> messages of any type, in order.</summary>
    public async Task<IReadOnlyList<object>> ReceiveNAsync(int count, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Dilate(timeout, _settings.DefaultTimeout);
        var clock = Stopwatch.StartNew();
        var taken = new List<object>(count);
        while (taken.Count < count)
        {
            var remaining = wait - clock.Elapsed;
            var next = remaining > TimeSpan.Zero ? await NextAsync(remaining, cancellationToken).ConfigureAwait(false) : null;
            if (next is not { } received)
            {
                throw new TestKitAssertionException($"Timeout ({wait}) after {taken.Count} of {count} messages");
            }

            LastSender = received.Sender;
            taken.Add(received.Message);
        }

        return taken;
    }

    /// <summary>Whether a message is waiting (without taking it).</summary>
    public bool HasMessages => _received.Reader.Count > 0;

    /// <summary>Stops the probe's actor.</summary>
    public void Stop() => _system.Stop(Ref);

    private static string Describe(object? message) => message is null ? "null" : $"{message.GetType().Name} {message}";

    private TimeSpan Dilate(TimeSpan? requested, TimeSpan fallback) => _settings.Dilated(requested ?? fallback);

    private async Task<(object Message, IActorRef Sender)?> NextAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_received.Reader.TryRead(out var ready))
        {
            return ready;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await _received.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private sealed class ProbeActor(ChannelWriter<(object, IActorRef)> sink) : ActorBase
    {
        protected override bool Receive(object message)
        {
            if (message is WatchCommand watch)
            {
                Context.Watch(watch.Target);
                Sender.Tell(new Watching(), Self);
                return true;
            }

            sink.TryWrite((message, Sender));
            return true;
        }

        public sealed record WatchCommand(IActorRef Target);

        public sealed record Watching;
    }
}
