using Akka.Actor;
using Jobs.Client;

namespace Jobs.Actors.Messages;

/// <summary>
/// The job system's door for Akka applications: answers <see cref="ScheduleJob"/>, <see cref="GetJob"/> and
/// <see cref="CancelJob"/> with typed replies, through the same validation and entities as <see cref="IJobsClient"/>.
/// Registered in Akka.Hosting's registry under this type; one per node, at <c>/user/jobs-gateway</c>.
/// </summary>
public sealed class JobsGateway : ReceiveActor
{
    /// <summary>Serves the client's calls as messages.</summary>
    /// <param name="client">The node's in-process client.</param>
    public JobsGateway(IJobsClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        Receive<ScheduleJob>(m => client.ScheduleAsync(m.Request).PipeTo(Sender, Self, failure: Failure));
        Receive<GetJob>(m => client.GetAsync(m.JobId).PipeTo(Sender, Self, failure: Failure));
        Receive<CancelJob>(m =>
            client
                .CancelAsync(m.JobId)
                .ContinueWith(
                    t => t.IsCompletedSuccessfully ? new JobCancelled(m.JobId) : throw t.Exception!.GetBaseException(),
                    TaskScheduler.Default
                )
                .PipeTo(Sender, Self, failure: Failure)
        );
    }

    /// <summary>A failed call is answered with its own exception (a <see cref="JobsException"/>), not an aggregate.</summary>
    private static Status.Failure Failure(Exception error) => new(error is AggregateException aggregate ? aggregate.GetBaseException() : error);
}
