using Akka.Actor;
using Jobs.Actors.Serialization;
using Jobs.Client;

namespace Jobs.Actors.Protocol;

/// <summary>
/// An entity's refusal of a command (not found, conflict, storage failure): the error the caller's call fails with.
/// The job system's actors answer each other with it instead of Akka's <c>Status.Failure</c>, so that an error
/// crossing nodes travels as its code and fields and is rebuilt from them, never from a type name in the message.
/// </summary>
internal sealed record JobsFailed(JobsException Error) : IWireMessage;

/// <summary>Asks an entity (through its region) and turns a <see cref="JobsFailed"/> answer into its exception.</summary>
internal static class EntityAsk
{
    /// <summary>The entity's answer of type <typeparamref name="T"/>; throws the error of a <see cref="JobsFailed"/>.</summary>
    public static async Task<T> AskEntity<T>(this ICanTell target, object message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var reply = await target.Ask<object>(message, timeout, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            T value => value,
            JobsFailed failed => throw failed.Error,
            _ => throw new InvalidOperationException($"{message.GetType().Name} was answered with {reply.GetType().Name}, not {typeof(T).Name}"),
        };
    }
}
