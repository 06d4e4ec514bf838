using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Runtime.Actors;
using Jobs.Runtime.Supervision;

namespace Jobs.Actors.Workers;

/// <summary>
/// The pool of one queue: creates and supervises its workers and admits a job only when a worker is free (the
/// admission control a blind round-robin router lacks). A crashed worker is restarted; its attempt is reported lost.
/// </summary>
internal sealed class WorkerPool(JobsRuntime runtime, string queue, int workers) : ActorBase
{
    private readonly Stack<IActorRef> _free = new();
    private readonly HashSet<IActorRef> _busy = [];
    private bool _admitting = true;

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Restart);

    protected override void PreStart()
    {
        for (var i = 0; i < workers; i++)
        {
            _free.Push(Context.ActorOf(Props.Create(() => new Worker(runtime, queue, Self)), $"worker-{i}"));
        }
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case RequestAdmission request:
                if (_admitting && _free.TryPop(out var worker))
                {
                    _busy.Add(worker);
                    worker.Tell(new Reserved(request.JobId), Self);
                    request.Entity.Tell(new Admitted(request.JobId, worker), Self);
                }
                else
                {
                    request.Entity.Tell(new AdmissionRejected(request.JobId), Self);
                }

                return true;
            case ReleaseWorker release:
                Free(release.Worker);
                return true;
            case WorkerIdle idle:
                Free(idle.Worker);
                return true;
            case StopAdmitting:
                _admitting = false;
                Sender.Tell(new PoolStatus(queue, workers, _free.Count, _busy.Count, _admitting), Self);
                return true;
            case GetPoolStatus:
                Sender.Tell(new PoolStatus(queue, workers, _free.Count, _busy.Count, _admitting), Self);
                return true;
            case InterruptAttempt:
                foreach (var busy in _busy)
                {
                    busy.Tell(InterruptAttempt.Instance, Self);
                }

                return true;
            default:
                return false;
        }
    }

    private void Free(IActorRef worker)
    {
        if (_busy.Remove(worker))
        {
            _free.Push(worker);
            if (_admitting)
            {
                runtime.Scheduler.Tell(new CapacityAvailable(queue), Self);
            }
        }
    }
}
