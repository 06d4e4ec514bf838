using System.Globalization;

namespace Jobs.Runtime.Actors;

/// <summary>Tell with an implicit sender, Forward, and Ask (request/response with a timeout).</summary>
public static class AskExtensions
{
    private static long s_askCounter;

    /// <summary>Tells with the current actor as sender when called from inside an actor, else with no sender.</summary>
    public static void Tell(this IActorRef target, object message)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, ActorCell.Current);
    }

    /// <summary>Sends <paramref name="message"/> keeping the original sender of the message being processed.</summary>
    public static void Forward(this IActorRef target, object message, IActorContext context)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(context);
        target.Tell(message, context.Sender);
    }

    /// <summary>
    /// Sends <paramref name="message"/> and waits for the first reply. Throws <see cref="AskTimeoutException"/> when none
    /// arrives in time, <see cref="AskTargetTerminatedException"/> when the target stops (or had stopped), the reply's
    /// cause for a <see cref="StatusFailure"/>, and <see cref="AskReplyTypeException"/> for a reply of another type.
    /// </summary>
    /// <typeparam name="T">The expected reply type.</typeparam>
    /// <param name="target">The actor to ask.</param>
    /// <param name="message">The request.</param>
    /// <param name="timeout">How long to wait; null uses the system's default ask timeout.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public static async Task<T> Ask<T>(this IActorRef target, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(message);
        if (target is not IInternalActorRef internalTarget)
        {
            throw new ArgumentException($"Cannot ask {target.Path}: not a reference created by an actor system", nameof(target));
        }

        var system = internalTarget.System;
        var wait = timeout ?? system.Settings.DefaultAskTimeout;
        if (wait <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "ask timeout must be positive");
        }

        var id = Interlocked.Increment(ref s_askCounter).ToString("x", CultureInfo.InvariantCulture);
        var promise = new PromiseActorRef(system, new ActorPath(new ActorPath(target.Path.SystemName, string.Empty), "temp/$" + id, 0), target.Path);
        internalTarget.SendSystemMessage(new Watch(internalTarget, promise));
        try
        {
            target.Tell(message, promise);
            object reply;
            try
            {
                reply = await promise.Task.WaitAsync(wait, system.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (!promise.Task.IsCompleted)
            {
                throw new AskTimeoutException(target.Path, wait, message.GetType());
            }

            return reply is T typed ? typed : throw new AskReplyTypeException(target.Path, typeof(T), reply);
        }
        finally
        {
            internalTarget.SendSystemMessage(new Unwatch(internalTarget, promise));
        }
    }
}
