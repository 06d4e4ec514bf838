using Akka.Actor;
using Jobs.Actors.Handlers;
using Jobs.Actors.Index;
using Jobs.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Hosting;

/// <summary>What the job system's actors share on one node: settings, clock, identity and the well-known actors.</summary>
internal sealed class JobsRuntime(
    JobsSettings settings,
    TimeProvider clock,
    HandlerRegistry handlers,
    JobIndex index,
    IServiceProvider services,
    ILoggerFactory loggers
)
{
    public JobsSettings Settings { get; } = settings;

    public TimeProvider Clock { get; } = clock;

    public HandlerRegistry Handlers { get; } = handlers;

    public JobIndex Index { get; } = index;

    public IServiceProvider Services { get; } = services;

    public ILoggerFactory Loggers { get; } = loggers;

    /// <summary>Identifies this process's life: attempts recorded under another incarnation were lost with their process.</summary>
    public string Incarnation { get; init; } = Guid.NewGuid().ToString("N");

    public JobsStatistics Statistics { get; } = new(clock.GetUtcNow(), new JobsMetrics(settings.NodeName));

    /// <summary>This node's meter and instruments.</summary>
    public JobsMetrics Metrics => Statistics.Metrics!;

    public IReadOnlyDictionary<string, IActorRef> Pools { get; set; } = new Dictionary<string, IActorRef>();

    /// <summary>The node's actor system.</summary>
    public ActorSystem System { get; set; } = null!;

    public IActorRef Scheduler { get; set; } = null!;

    public IActorRef Region { get; set; } = null!;

    /// <summary>The shards' leases, whose fences entities write under; null when shards hold no leases.</summary>
    public Sharding.ShardLeases? ShardLeases { get; set; }

    /// <summary>The shard region of recurring-schedule entities.</summary>
    public IActorRef Recurring { get; set; } = null!;

    public Recurring.RecurringIndex RecurringIndex { get; set; } = null!;

    public Recurring.NamedSchedules NamedSchedules { get; set; } = new();

    public ScheduleValidator Validator { get; set; } = null!;

    /// <summary>The journal, for batch writes that span many entities.</summary>
    public Jobs.Persistence.Journal.IJournal Journal { get; set; } = null!;

    /// <summary>Reads the journal once (the highest sequence number of a stream nobody writes): completes when the database answers.</summary>
    public Task ProbeJournalAsync(CancellationToken cancellationToken) => Journal.ReadHighestSequenceNrAsync("jobs-health-probe", cancellationToken);

    /// <summary>Concurrency caps per kind (configuration over the handlers' registrations); the same on every member.</summary>
    public IReadOnlyDictionary<string, int> KindCaps { get; set; } = new Dictionary<string, int>();

    /// <summary>Counts the slots this member's pools hold per capped kind (<see cref="Workers.KindGuard"/>).</summary>
    public IActorRef KindGuard { get; set; } = ActorRefs.Nobody;

    /// <summary>Each queue's durable pause state.</summary>
    public IReadOnlyDictionary<string, IActorRef> QueueControls { get; set; } = new Dictionary<string, IActorRef>();

    public IReadOnlyList<IJobObserver> Observers { get; set; } = [];

    /// <summary>Holds handlers back after this process stood still, until another member confirms this one; null before the node started.</summary>
    public Sharding.PauseGuard? PauseGuard { get; set; }

    /// <summary>What the other members of the cluster offer (kinds, queues, watches).</summary>
    public Sharding.ClusterDirectory Directory { get; init; } = new();

    /// <summary>Fans job transitions out to the watchers of every member.</summary>
    public TransitionHub Transitions => _transitions ??= new(Settings.WatchBuffer, Directory);

    private TransitionHub? _transitions;

    public int ShardOf(string jobId) => Sharding.JobShards.ShardOf(jobId, Settings.NumberOfShards);

    public void NotifyObservers(JobInfo job, AttemptOutcome outcome)
    {
        foreach (var observer in Observers)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await observer.OnAttemptEndedAsync(job, outcome, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Loggers.CreateLogger<JobsRuntime>().LogWarning(ex, "Job observer {Observer} failed for {JobId}", observer.GetType().Name, job.Id);
                }
            });
        }
    }
}
