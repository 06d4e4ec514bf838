using Jobs.Actors.Serialization;
using Jobs.Client;

namespace Jobs.Actors.Messages;

/// <summary>
/// Schedules a job, from an Akka application: tell or ask it to the <c>JobsGateway</c> actor (Akka.Hosting:
/// <c>IRequiredActor&lt;JobsGateway&gt;</c>). The reply is the <see cref="ScheduleResult"/> once the job is durable,
/// or a <c>Status.Failure</c> holding a <see cref="JobsException"/> (a validation error names the field).
/// </summary>
/// <param name="Request">What to run and when, as for <see cref="IJobSchedulingClient.ScheduleAsync"/>.</param>
public sealed record ScheduleJob(ScheduleRequest Request) : IWireMessage;

/// <summary>Reads a job: the reply is its <see cref="JobInfo"/>, or a <c>Status.Failure</c> holding a <see cref="JobNotFoundException"/>.</summary>
/// <param name="JobId">The job's id.</param>
public sealed record GetJob(string JobId) : IWireMessage;

/// <summary>
/// Cancels a job that has not finished (a running attempt is cancelled too): the reply is <see cref="JobCancelled"/>,
/// or a <c>Status.Failure</c> (not found, already finished).
/// </summary>
/// <param name="JobId">The job's id.</param>
public sealed record CancelJob(string JobId) : IWireMessage;

/// <summary>The reply to <see cref="CancelJob"/>: the cancellation is durable.</summary>
/// <param name="JobId">The job's id.</param>
public sealed record JobCancelled(string JobId) : IWireMessage;
