using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using Jobs.Actors.Protocol;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Persistence.Serialization;

namespace Jobs.Actors.Serialization;

/// <summary>
/// The job system's messages between nodes, and the public messages and replies of Akka applications: System.Text.Json
/// with source-generated metadata under stable string manifests ("schedule-job.v1"), never CLR type names. Errors
/// (<see cref="JobsFailed"/>) travel as the HTTP API's problem body (code and fields) and are rebuilt from the code.
/// </summary>
internal sealed class JobsMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The serializer's id: it never changes.</summary>
    public const int Id = 7402;

    private const string FailedManifest = "jobs-failed.v1";

    private static readonly EventSerializer Messages = Register(new EventSerializer(), JobsMessagesJsonContext.Default);

    /// <summary>Messages without fields, sent as their manifest alone and read back as their one instance.</summary>
    private static readonly (string Manifest, object Instance)[] Singletons =
    [
        ("job-ack.v1", JobAck.Instance),
        ("ping.v1", Ping.Instance),
        ("pong.v1", Pong.Instance),
        ("get-pool-status.v1", GetPoolStatus.Instance),
        ("database-contact-query.v1", Sharding.DatabaseContactQuery.Instance),
    ];

    /// <summary>Every type this serializer writes (declared before <see cref="Hocon"/>, which binds them).</summary>
    public static IReadOnlyList<Type> MessageTypes { get; } =
    [
        .. typeof(JobsMessageSerializer)
            .Assembly.GetTypes()
            .Where(t =>
                t.IsClass
                && !t.IsAbstract
                && typeof(IWireMessage).IsAssignableFrom(t)
                && !typeof(INoSerializationVerificationNeeded).IsAssignableFrom(t)
            )
            .Concat([typeof(ScheduleResult), typeof(JobInfo), typeof(RecurringScheduleInfo)])
            .OrderBy(t => t.FullName, StringComparer.Ordinal),
    ];

    /// <summary>The Akka configuration that registers this serializer and binds every message type to it.</summary>
    public static string Hocon { get; } = BuildHocon();

    /// <inheritdoc />
    public override int Identifier => Id;

    /// <summary>True when <paramref name="type"/> has a manifest here (a test checks every <see cref="MessageTypes"/> entry).</summary>
    public static bool Knows(Type type) =>
        type == typeof(JobsFailed) || Messages.IsRegistered(type) || Array.Exists(Singletons, s => s.Instance.GetType() == type);

    /// <inheritdoc />
    public override string Manifest(object o) =>
        o switch
        {
            JobsFailed => FailedManifest,
            _ when Array.Find(Singletons, s => s.Instance.GetType() == o.GetType()) is { Manifest: { } manifest } => manifest,
            _ => Messages.Serialize(o).Manifest,
        };

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) =>
        obj switch
        {
            JobsFailed failed => JsonSerializer.SerializeToUtf8Bytes(ProblemBody.From(failed.Error), JobsWire.Options),
            _ when Array.Exists(Singletons, s => s.Instance.GetType() == obj.GetType()) => [],
            _ => Messages.Serialize(obj).Payload,
        };

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == FailedManifest)
        {
            var problem = JsonSerializer.Deserialize<ProblemBody>(bytes, JobsWire.Options)
                ?? throw new System.Runtime.Serialization.SerializationException("an empty error reply");
            return new JobsFailed(problem.ToException());
        }

        return Array.Find(Singletons, s => s.Manifest == manifest) is { Instance: { } instance } ? instance : Messages.Deserialize(manifest, bytes);
    }

    private static EventSerializer Register(EventSerializer s, JobsMessagesJsonContext c) =>
        s.Register("schedule-job.v1", c.ScheduleJob)
            .Register("get-job.v1", c.GetJob)
            .Register("cancel-job.v1", c.CancelJob)
            .Register("reschedule-job.v1", c.RescheduleJob)
            .Register("retry-job.v1", c.RetryJob)
            .Register("destroy-job.v1", c.DestroyJob)
            .Register("wake-job.v1", c.WakeJob)
            .Register("attempt-completed.v1", c.AttemptCompleted)
            .Register("begin-attempt.v1", c.BeginAttempt)
            .Register("attempt-not-started.v1", c.AttemptNotStarted)
            .Register("admitted.v1", c.Admitted)
            .Register("admission-rejected.v1", c.AdmissionRejected)
            .Register("set-recurring.v1", c.SetRecurring)
            .Register("get-recurring.v1", c.GetRecurring)
            .Register("pause-recurring.v1", c.PauseRecurring)
            .Register("resume-recurring.v1", c.ResumeRecurring)
            .Register("delete-recurring.v1", c.DeleteRecurring)
            .Register("wake-recurring.v1", c.WakeRecurring)
            .Register("recurring-job-ended.v1", c.RecurringJobEnded)
            .Register("job-due.v1", c.JobDue)
            .Register("capacity-available.v1", c.CapacityAvailable)
            .Register("wake-rejected.v1", c.WakeRejected)
            .Register("request-admission.v1", c.RequestAdmission)
            .Register("expect-woken.v1", c.ExpectWoken)
            .Register("wake-declined.v1", c.WakeDeclined)
            .Register("query-attempt.v1", c.QueryAttempt)
            .Register("database-contact-reply.v1", c.DatabaseContactReply)
            .Register("attempt-unknown.v1", c.AttemptUnknown)
            .Register("member-offer.v1", c.MemberOffer)
            .Register("offer-received.v1", c.OfferReceived)
            .Register("remote-transition.v1", c.RemoteTransition)
            .Register("standing-query.v1", c.StandingQuery)
            .Register("standing-reply.v1", c.StandingReply)
            .Register("release-slot.v1", c.ReleaseSlot)
            .Register("pool-status.v1", c.PoolStatus)
            .Register("execute.v1", c.Execute)
            .Register("cancel-attempt.v1", c.CancelAttempt)
            .Register("queue-pause-changed.v1", c.QueuePauseChanged)
            .Register("schedule-result.v1", c.ScheduleResult)
            .Register("job-info.v1", c.JobInfo)
            .Register("recurring-schedule-info.v1", c.RecurringScheduleInfo)
            .Register("gateway.schedule-job.v1", c.GatewayScheduleJob)
            .Register("gateway.get-job.v1", c.GatewayGetJob)
            .Register("gateway.cancel-job.v1", c.GatewayCancelJob)
            .Register("gateway.job-cancelled.v1", c.GatewayJobCancelled);

    private static string BuildHocon()
    {
        var type = typeof(JobsMessageSerializer);
        var name = $"{type.FullName}, {type.Assembly.GetName().Name}";
        var b = new StringBuilder();
        b.Append("akka.actor.serializers.jobs-messages = \"").Append(name).Append("\"\n");
        b.Append("akka.actor.serialization-identifiers { \"").Append(name).Append("\" = ").Append(Id).Append(" }\n");
        b.Append("akka.actor.serialization-bindings {\n");
        foreach (var messageType in MessageTypes)
        {
            b.Append("  \"").Append(messageType.FullName).Append(", ").Append(messageType.Assembly.GetName().Name).Append("\" = jobs-messages\n");
        }

        return b.Append("}\n").ToString();
    }
}
