using Akka.Actor;

namespace Jobs.Actors.Support;

/// <summary>
/// Props made from a plain factory: no expression tree compiled per actor (the job entities are created by the
/// thousand). For local actors only (the factory cannot be sent to another node).
/// </summary>
internal static class ActorProps
{
    /// <summary>Props whose actors <paramref name="factory"/> creates (again on every restart).</summary>
    public static Props Of<TActor>(Func<TActor> factory)
        where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        return Props.CreateBy(new Producer<TActor>(factory));
    }

    private sealed class Producer<TActor>(Func<TActor> factory) : IIndirectActorProducer
        where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => factory();

        public void Release(ActorBase actor) { }
    }
}
