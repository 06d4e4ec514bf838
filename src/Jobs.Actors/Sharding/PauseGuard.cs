using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Jobs.Actors.Serialization;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Sharding;

/// <summary>
/// Notices when this process stood still (SIGSTOP, a suspended VM, a very long GC) for longer than the cluster's
/// failure detector tolerates: long enough for the other members to have removed this one, taken its shards and run
/// its jobs again. Until another member confirms that it still sees this member (this incarnation) up, workers do
/// not invoke handlers: an attempt whose start was stored before the pause would otherwise run on a member the
/// cluster already gave up on. A member that was removed gets no confirmation (the others no longer talk to it) and
/// is stopped by its cluster shortly after; a false alarm (a long GC on a member still in good standing) costs one
/// round trip. A single-member cluster confirms itself.
/// </summary>
internal sealed class PauseGuard : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    private readonly ActorSystem _system;
    private readonly TimeSpan _threshold;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _ticker;
    private readonly Lock _gate = new();
    private long _lastTick = Stopwatch.GetTimestamp();
    private Task<bool>? _confirming;

    /// <summary>Watches for pauses longer than <paramref name="threshold"/>.</summary>
    public PauseGuard(ActorSystem system, TimeSpan threshold, ILogger log)
    {
        _system = system;
        _threshold = threshold;
        _log = log;
        // Its own thread: a starved thread pool must not look like a pause.
        _ticker = new Thread(Run) { IsBackground = true, Name = "jobs-pause-guard" };
        _ticker.Start();
    }

    /// <summary>
    /// Whether handlers may run now: at once when no pause was seen; after a pause, once another member confirmed
    /// this one (false when none did within <paramref name="wait"/>).
    /// </summary>
    public async Task<bool> InGoodStandingAsync(TimeSpan wait)
    {
        Task<bool>? confirming;
        lock (_gate)
        {
            if (Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastTick)) > _threshold)
            {
                // The ticker has not run for longer than the threshold: the process stood still just now (the worker
                // may get here before the ticker does).
                _confirming ??= ConfirmAsync(Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastTick)));
            }

            confirming = _confirming;
        }

        if (confirming is null)
        {
            return true;
        }

        var done = await Task.WhenAny(confirming, Task.Delay(wait)).ConfigureAwait(false);
        return done == confirming && await confirming.ConfigureAwait(false);
    }

    private void Run()
    {
        while (!_stopping.Token.WaitHandle.WaitOne(Tick))
        {
            var gap = Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastTick));
            lock (_gate)
            {
                if (gap > _threshold && _confirming is null)
                {
                    _confirming = ConfirmAsync(gap);
                }

                Interlocked.Exchange(ref _lastTick, Stopwatch.GetTimestamp());
            }
        }
    }

    /// <summary>Asks the other members whether they see this member up, every second until one does (or the node stops).</summary>
    private async Task<bool> ConfirmAsync(TimeSpan pause)
    {
        await Task.Yield();
        var cluster = Cluster.Get(_system);
        _log.LogWarning(
            "This process stood still for {Pause:F1} s: no handler starts until another member confirms this one is still in the cluster",
            pause.TotalSeconds
        );
        var started = Stopwatch.GetTimestamp();
        var warned = false;
        var confirmed = false;
        while (!_stopping.IsCancellationRequested)
        {
            if (!warned && Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(30))
            {
                warned = true;
                _log.LogError(
                    "No member confirmed this one for 30 s after the pause: it was most likely "
                        + "removed from the cluster; handlers stay stopped until one does or the node stops"
                );
            }

            var others = cluster.State.Members.Where(m => m.Status == MemberStatus.Up && !m.UniqueAddress.Equals(cluster.SelfUniqueAddress)).ToList();
            if (others.Count == 0)
            {
                confirmed = cluster.SelfMember.Status == MemberStatus.Up; // alone: nobody else could have taken over
                break;
            }

            var query = new StandingQuery(cluster.SelfUniqueAddress.Uid);
            var answers = others
                .Select(async m =>
                {
                    try
                    {
                        var reply = await _system
                            .ActorSelection(new RootActorPath(m.Address) / "user" / MemberDirectory.Name)
                            .Ask<StandingReply>(query, AskTimeout)
                            .ConfigureAwait(false);
                        return reply.Up;
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        return false; // no answer (a timeout, or the member is going away): ask again in a second
                    }
                })
                .ToList();
            if ((await Task.WhenAll(answers).ConfigureAwait(false)).Any(up => up))
            {
                confirmed = true;
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }

        if (confirmed)
        {
            lock (_gate)
            {
                _confirming = null; // in good standing again (until the next pause); unconfirmed, it stays suspect
            }

            _log.LogInformation("Another member confirmed this one after the pause: handlers start again");
        }

        return confirmed;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _ticker.Join();
        _stopping.Dispose();
    }
}

/// <summary>From a member that stood still: do you see me (this incarnation, by its uid) up?</summary>
internal sealed record StandingQuery(long Uid) : IWireMessage;

/// <summary>The answer to <see cref="StandingQuery"/>.</summary>
internal sealed record StandingReply(bool Up) : IWireMessage;
