namespace Jobs.Runtime.Lifecycle;

/// <summary>The ordered phases of coordinated shutdown (Akka's names, trimmed to what a job node uses).</summary>
public enum ShutdownPhase
{
    /// <summary>Stop accepting new work: unbind listeners, stop admitting jobs.</summary>
    ServiceUnbind = 0,

    /// <summary>Let in-flight requests and running handlers finish.</summary>
    ServiceRequestsDone = 1,

    /// <summary>Stop services: schedulers, pollers, background loops.</summary>
    ServiceStop = 2,

    /// <summary>Hand off cluster responsibilities (shards, singletons, leases).</summary>
    ClusterLeave = 3,

    /// <summary>Last chance before actors are stopped: flush journals.</summary>
    BeforeActorSystemTerminate = 4,

    /// <summary>Stop every actor (user actors first, then the runtime's).</summary>
    ActorSystemTerminate = 5,
}
