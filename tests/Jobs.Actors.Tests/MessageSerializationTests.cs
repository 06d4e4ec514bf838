using System.Text.Json;
using Akka.Actor;
using Jobs.Actors.Entities;
using Jobs.Actors.Protocol;
using Jobs.Actors.Recurring;
using Jobs.Actors.Scheduling;
using Jobs.Actors.Serialization;
using Jobs.Client;
using AkkaConfigurationFactory = Akka.Configuration.ConfigurationFactory;
using Gateway = Jobs.Actors.Messages;

namespace Jobs.Actors.Tests;

/// <summary>
/// Every message that may travel between nodes goes through Akka.NET's serialization with the job system's message
/// serializer under a stable manifest and comes back the same; every other message type says it never leaves its node.
/// A message type added without either fails here (Akka would otherwise send it with its type-name JSON fallback).
/// </summary>
public sealed class MessageSerializationTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly JsonElement Payload = JsonDocument.Parse("""{"text":"hi","n":[1,2]}""").RootElement.Clone();

    private readonly ActorSystem _system = ActorSystem.Create("messages", AkkaConfigurationFactory.ParseString(JobsMessageSerializer.Hocon));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    /// <summary>One realistic instance of every message type (a new message type needs one here).</summary>
    private static readonly object[] Samples =
    [
        new ScheduleJob(
            new JobScheduled(
                "j1",
                "echo",
                "default",
                3,
                """{"a":1}""",
                At,
                At,
                5,
                30_000,
                1,
                1000,
                60_000,
                2,
                0.1,
                "key",
                5000,
                "nightly",
                "00-abc-def-01",
                "4F2A9C01D3E5B768"
            ),
            UniqueConflict.Replace
        ),
        new GetJob("j1"),
        new CancelJob("j1", 4),
        new RescheduleJob("j1", At, 7),
        new RetryJob("j1"),
        new DestroyJob("j1", null),
        new WakeJob("j1"),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.Succeeded("""{"ok":true}""")),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.Threw("boom", "at X")),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.RetryAt(At, "later")),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.FailedPermanently("no")),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.Snoozed(TimeSpan.FromSeconds(90))),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.TimedOut("30 s")),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.Lost("node gone")),
        new AttemptCompleted("j1", 2, "node/1", new AttemptReport.Interrupted("shutdown")),
        new BeginAttempt("j1", 3),
        new AttemptNotStarted("j1", 3, "pool restarted"),
        new Admitted("j1", WorkerReserved: true),
        new AdmissionRejected("j1"),
        JobAck.Instance,
        Ping.Instance,
        Pong.Instance,
        GetPoolStatus.Instance,
        new SetRecurring(
            new RecurringDefinition(
                "nightly",
                "echo",
                "{}",
                "0 3 * * *",
                null,
                null,
                "Europe/Paris",
                At,
                null,
                10,
                OverlapPolicy.Skip,
                60_000,
                1,
                "default",
                3,
                5000,
                At
            )
        ),
        new GetRecurring("nightly"),
        new PauseRecurring("nightly"),
        new ResumeRecurring("nightly"),
        new DeleteRecurring("nightly"),
        new WakeRecurring("nightly"),
        new RecurringJobEnded("nightly", "j1", true),
        new JobDue("default", At, "j1"),
        new CapacityAvailable("default", "j1"),
        new Scheduler.WakeRejected("j1"),
        new RequestAdmission("j1", "echo", 2, At),
        new ExpectWoken(["j1", "j2"], Wake: true),
        new WakeDeclined("j1"),
        new ReleaseSlot("j1"),
        new QueryAttempt("j1", 2, "akka.tcp://jobs@10.0.0.1:4053#7"),
        new AttemptUnknown("j1", 2, "akka.tcp://jobs@10.0.0.1:4053#7"),
        Sharding.DatabaseContactQuery.Instance,
        new Sharding.DatabaseContactReply(Reached: true),
        new Sharding.MemberOffer(
            "akka.tcp://jobs@10.0.0.1:4053#7",
            [
                new Sharding.KindOffer(
                    "echo",
                    new Handlers.JobKindOptions
                    {
                        Queue = "mail",
                        Timeout = TimeSpan.FromSeconds(9),
                        BackoffFactor = 1.5,
                    }
                ),
            ],
            ["default", "mail"],
            [new WatchQuery { Kind = "echo", Status = JobStatus.Failed }],
            4
        ),
        new Sharding.OfferReceived(4),
        new Sharding.StandingQuery(-7402),
        new Sharding.StandingReply(Up: true),
        new Sharding.RemoteTransition(new JobTransition("j1", "echo", "default", JobStatus.Running, "attempt-started", 1, null, At, At)),
        new PoolStatus(
            "default",
            4,
            1,
            3,
            true,
            Paused: false,
            Admitted: ["j1", "j2"],
            Kinds: ["echo", "mail"],
            Held: new Dictionary<string, int> { ["echo"] = 2 }
        ),
        new Execute("j1", 1, "node/1", "echo", """{"a":1}""", At, TimeSpan.FromSeconds(30), "00-abc-def-01", 2, Started: false),
        new CancelAttempt("j1", 1),
        new Workers.QueuePauseChanged("default"),
        new ScheduleResult("j1", AlreadyExisted: true, Replaced: true),
        new JobInfo
        {
            Id = "j1",
            Kind = "echo",
            Queue = "default",
            Priority = 1,
            Status = JobStatus.Failed,
            Payload = Payload,
            CreatedAt = At,
            DueAt = At,
            AttemptCount = 1,
            MaxAttempts = 1,
            StartedAt = At,
            StartedBy = "node",
            CompletedAt = At,
            LastError = "boom",
            Result = Payload,
            Attempts = [new AttemptInfo(1, "node", At, At, AttemptOutcome.Failed, "boom", "at X")],
            Revision = 3,
        },
        new RecurringScheduleInfo
        {
            Name = "nightly",
            Kind = "echo",
            Payload = Payload,
            Cron = "0 3 * * *",
            TimeZone = "UTC",
            Overlap = OverlapPolicy.Skip,
            CatchUpWindow = TimeSpan.FromMinutes(1),
        },
        new Gateway.ScheduleJob(
            ScheduleRequest.Create("echo", new { text = "hi" }) with
            {
                Delay = TimeSpan.FromSeconds(5),
                Priority = 2,
                UniqueKey = "k",
            }
        ),
        new Gateway.GetJob("j1"),
        new Gateway.CancelJob("j1"),
        new Gateway.JobCancelled("j1"),
        new JobsFailed(new JobNotFoundException("j1")),
    ];

    [Fact]
    public void EveryWireMessage_IsBoundToTheMessageSerializer_UnderAStableManifest_AndRoundTrips()
    {
        Assert.True(JobsMessageSerializer.MessageTypes.Count >= 40, $"only {JobsMessageSerializer.MessageTypes.Count} message types found");
        var sampled = Samples.Select(s => s.GetType()).ToHashSet();
        var unsampled = JobsMessageSerializer.MessageTypes.Where(t => !sampled.Contains(t)).Select(t => t.FullName).ToList();
        Assert.True(unsampled.Count == 0, "no sample for " + string.Join(", ", unsampled));
        var manifests = new HashSet<string>();
        foreach (var message in Samples)
        {
            var serializer = _system.Serialization.FindSerializerFor(message);
            Assert.True(
                serializer is JobsMessageSerializer,
                $"{message.GetType().Name} is bound to {serializer.GetType().Name}, not the message serializer"
            );
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
            Assert.Matches("^[a-z.-]+\\.v\\d+$", manifest); // a stable name, never a CLR type name
            manifests.Add(manifest);
            var bytes = serializer.ToBinary(message);
            var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
            Assert.IsType(message.GetType(), back);
            if (message is JobsFailed)
            {
                continue; // exceptions have no value equality: checked field by field below
            }

            // Records holding lists or JSON compare by reference: the same bytes again is the check for all of them.
            Assert.Equal(Convert.ToBase64String(bytes), Convert.ToBase64String(serializer.ToBinary(back)));
            if (
                message
                    .GetType()
                    .GetProperties()
                    .All(p =>
                        (p.PropertyType.IsValueType || p.PropertyType == typeof(string))
                        && p.PropertyType != typeof(JsonElement)
                        && p.PropertyType != typeof(JsonElement?)
                    )
            )
            {
                Assert.Equal(message, back);
            }
        }

        Assert.Equal(JobsMessageSerializer.MessageTypes.Count, manifests.Count); // one manifest per type
    }

    /// <summary>Types nested in actors that hold their state and are never sent.</summary>
    private static readonly HashSet<string> ActorState = ["Running", "Slot", "RankComparer", "PoolView", "Arming", "NotInGoodStandingException"];

    [Fact]
    public void EveryMessageType_EitherTravelsWithAManifest_OrSaysItStaysOnItsNode()
    {
        var assembly = typeof(JobsMessageSerializer).Assembly;
        var messageTypes = assembly
            .GetTypes()
            .Where(t =>
                t is { IsClass: true, IsAbstract: false }
                && !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false)
                && (
                    t.Namespace is "Jobs.Actors.Protocol" or "Jobs.Actors.Messages"
                    || t.IsNested && typeof(ActorBase).IsAssignableFrom(t.DeclaringType)
                )
                && !typeof(ActorBase).IsAssignableFrom(t)
                && t != typeof(EntityAsk)
                && !ActorState.Contains(t.Name)
            );
        var unmarked = messageTypes
            .Where(t => !typeof(IWireMessage).IsAssignableFrom(t) && !typeof(INoSerializationVerificationNeeded).IsAssignableFrom(t))
            .Select(t => t.FullName)
            .ToList();
        Assert.True(unmarked.Count == 0, "neither IWireMessage nor INoSerializationVerificationNeeded: " + string.Join(", ", unmarked));
        Assert.All(JobsMessageSerializer.MessageTypes.Where(t => typeof(IWireMessage).IsAssignableFrom(t)), t =>
            Assert.True(JobsMessageSerializer.Knows(t), $"{t.Name} has no manifest")
        );
    }

    [Fact]
    public void AnErrorCrossingNodes_IsRebuiltFromItsCode_WithItsFields()
    {
        JobsException[] errors =
        [
            new JobNotFoundException("j1"),
            new JobStateConflictException("j1", JobStatus.Succeeded, "cancel"),
            new DuplicateJobException("j1", "key"),
            new JobKindConflictException("j1", "echo", "other"),
            new RecurringNotFoundException("nightly"),
            new JobPreconditionFailedException("j1", 3, 5),
            new JobValidationException("timeout", "must be positive"),
            new JobsException("storage-failure", "the job store is not answering"),
        ];
        var serializer = (JobsMessageSerializer)_system.Serialization.FindSerializerFor(new JobsFailed(errors[0]));
        foreach (var error in errors)
        {
            var failed = new JobsFailed(error);
            var back = Assert.IsType<JobsFailed>(serializer.FromBinary(serializer.ToBinary(failed), serializer.Manifest(failed))).Error;
            Assert.IsType(error.GetType(), back);
            Assert.Equal(error.ErrorCode, back.ErrorCode);
            Assert.Equal(error.Message, back.Message);
            Assert.DoesNotContain(
                typeof(JobsException).Namespace!,
                System.Text.Encoding.UTF8.GetString(serializer.ToBinary(failed)),
                StringComparison.Ordinal
            );
        }

        var field = Assert.IsType<JobValidationException>(
            ((JobsFailed)serializer.FromBinary(serializer.ToBinary(new JobsFailed(errors[6])), "jobs-failed.v1")).Error
        );
        Assert.Equal("timeout", field.Field);
    }
}

/// <summary>
/// A node that serializes every message it sends (Akka's serialize-messages) and refuses the type-name fallback
/// serializer runs the job system's whole life: what a cluster would send between nodes is proven serializable by
/// the job system's own serializers, and a message that would fall back to CLR type names fails the run.
/// </summary>
public sealed class SerializeEveryMessageTests
{
    [Fact]
    public async Task AJobsLife_WithEveryMessageSerialized_AndNoTypeNameFallback()
    {
        var config = $$"""
            akka.actor.serialize-messages = on
            akka.loglevel = DEBUG
            akka.actor.serializers.no-type-names = "{{typeof(NoTypeNameSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "System.Object" = no-type-names }
            """;
        await using var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, extraConfig: config);
        await node.DiagnosedAsync(async () =>
        {
            var client = node.Client;
            var echo = (await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("serialized")))).JobId;
            var retried = (await client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(1)) with { MaxAttempts = 3 })).JobId;
            var later = (
                await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("later")) with { Delay = TimeSpan.FromHours(1) })
            ).JobId;
            var batch = await client.ScheduleManyAsync([
                .. Enumerable.Range(0, 20).Select(i => ScheduleRequest.Create("echo", new EchoPayload($"b{i}"))),
            ]);
            await node.WaitForStatusAsync(echo, JobStatus.Succeeded);
            await node.WaitForStatusAsync(retried, JobStatus.Succeeded, TimeSpan.FromSeconds(30));
            foreach (var item in batch)
            {
                await node.WaitForStatusAsync(item.Result!.JobId, JobStatus.Succeeded);
            }

            await client.RescheduleAsync(later, DateTimeOffset.UtcNow.AddHours(2));
            await client.CancelAsync(later);
            Assert.Equal(JobStatus.Cancelled, (await client.GetAsync(later)).Status);
            await Assert.ThrowsAsync<JobStateConflictException>(() => client.CancelAsync(later));
            await Assert.ThrowsAsync<JobNotFoundException>(() => client.GetAsync("no-such-job"));
            await client.SetRecurringAsync(
                new RecurringScheduleRequest
                {
                    Name = "minutely",
                    Kind = "echo",
                    Payload = JsonSerializer.SerializeToElement(new EchoPayload("r")),
                    Cron = "* * * * *",
                }
            );
            await client.PauseRecurringAsync("minutely");
            Assert.Equal(RecurringState.Paused, (await client.GetRecurringAsync("minutely")).State);
            await client.DeleteRecurringAsync("minutely");
            await client.PauseQueueAsync("default");
            await client.ResumeQueueAsync("default");
            Assert.True((await node.Node.CheckHealthAsync(TimeSpan.FromSeconds(5))).Ready);
        });
    }
}

/// <summary>
/// Bound to System.Object in the test above: a job system message without a serializer of its own fails loudly.
/// Akka's own local messages (which serialize-messages checks too, and which never leave their node) pass through
/// unchanged, by reference. The objects in passage are kept in one table for every instance: Akka may make more than
/// one instance of a serializer when threads first ask for it at once, and serialize with one and deserialize with
/// another (seen: a cluster subscription of a coordinator's singleton lost at start, so its region never registered).
/// </summary>
public sealed class NoTypeNameSerializer(ExtendedActorSystem system) : Akka.Serialization.Serializer(system)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, object> Passing = new();
    private static long s_next;

    /// <inheritdoc />
    public override int Identifier => 7499;

    /// <inheritdoc />
    public override bool IncludeManifest => false;

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        if (obj.GetType().Namespace?.StartsWith("Akka.", StringComparison.Ordinal) != true)
        {
            throw new InvalidOperationException($"{obj.GetType().FullName} has no serializer of its own: it would travel with its CLR type name");
        }

        var key = Interlocked.Increment(ref s_next);
        Passing[key] = obj;
        return BitConverter.GetBytes(key);
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, Type type) =>
        Passing.TryRemove(BitConverter.ToInt64(bytes), out var obj) ? obj : throw new InvalidOperationException("an unknown pass-through key");
}
