using System.Text.Json.Serialization;
using Jobs.Actors.Protocol;
using Jobs.Actors.Recurring;
using Jobs.Actors.Scheduling;
using Jobs.Client;
using Gateway = Jobs.Actors.Messages;

namespace Jobs.Actors.Serialization;

/// <summary>Source-generated JSON for the messages that may travel between nodes (see <see cref="JobsMessageSerializer"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull
)]
[JsonSerializable(typeof(ScheduleJob))]
[JsonSerializable(typeof(GetJob))]
[JsonSerializable(typeof(CancelJob))]
[JsonSerializable(typeof(RescheduleJob))]
[JsonSerializable(typeof(RetryJob))]
[JsonSerializable(typeof(DestroyJob))]
[JsonSerializable(typeof(WakeJob))]
[JsonSerializable(typeof(AttemptCompleted))]
[JsonSerializable(typeof(BeginAttempt))]
[JsonSerializable(typeof(AttemptNotStarted))]
[JsonSerializable(typeof(Admitted))]
[JsonSerializable(typeof(AdmissionRejected))]
[JsonSerializable(typeof(SetRecurring))]
[JsonSerializable(typeof(GetRecurring))]
[JsonSerializable(typeof(PauseRecurring))]
[JsonSerializable(typeof(ResumeRecurring))]
[JsonSerializable(typeof(DeleteRecurring))]
[JsonSerializable(typeof(WakeRecurring))]
[JsonSerializable(typeof(RecurringJobEnded))]
[JsonSerializable(typeof(JobDue))]
[JsonSerializable(typeof(CapacityAvailable))]
[JsonSerializable(typeof(Scheduler.WakeRejected))]
[JsonSerializable(typeof(RequestAdmission))]
[JsonSerializable(typeof(ExpectWoken))]
[JsonSerializable(typeof(WakeDeclined))]
[JsonSerializable(typeof(QueryAttempt))]
[JsonSerializable(typeof(Sharding.DatabaseContactReply))]
[JsonSerializable(typeof(AttemptUnknown))]
[JsonSerializable(typeof(Sharding.MemberOffer))]
[JsonSerializable(typeof(Sharding.OfferReceived))]
[JsonSerializable(typeof(Sharding.RemoteTransition))]
[JsonSerializable(typeof(Sharding.StandingQuery))]
[JsonSerializable(typeof(Sharding.StandingReply))]
[JsonSerializable(typeof(ReleaseSlot))]
[JsonSerializable(typeof(PoolStatus))]
[JsonSerializable(typeof(Execute))]
[JsonSerializable(typeof(CancelAttempt))]
[JsonSerializable(typeof(Workers.QueuePauseChanged))]
[JsonSerializable(typeof(ScheduleResult))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(RecurringScheduleInfo))]
[JsonSerializable(typeof(Gateway.ScheduleJob), TypeInfoPropertyName = "GatewayScheduleJob")]
[JsonSerializable(typeof(Gateway.GetJob), TypeInfoPropertyName = "GatewayGetJob")]
[JsonSerializable(typeof(Gateway.CancelJob), TypeInfoPropertyName = "GatewayCancelJob")]
[JsonSerializable(typeof(Gateway.JobCancelled), TypeInfoPropertyName = "GatewayJobCancelled")]
internal sealed partial class JobsMessagesJsonContext : JsonSerializerContext;
