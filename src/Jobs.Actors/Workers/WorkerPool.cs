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
    private readonly Dictionary<IActorRef, string> _busy = [];
    private bool _admitting = true;
    private bool _paused;

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Restart);

    protected override void PreStart()
    {
        // Held until its QueueControl has recovered whether the queue is paused (also after a restart of the pool).
        _paused = !runtime.PausedQueues.TryGetValue(queue, out var paused) || paused;
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
                if (_admitting && !_paused && _free.Count > 0 && runtime.KindLimits.TryAcquire(request.Kind))
                {
                    var worker = _free.Pop();
                    _busy[worker] = request.Kind;
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
                Sender.Tell(new PoolStatus(queue, workers, _free.Count, _busy.Count, _admitting, _paused), Self);
                return true;
            case GetPoolStatus:
                Sender.Tell(new PoolStatus(queue, workers, _free.Count, _busy.Count, _admitting, _paused), Self);
                return true;
            case PoolPaused paused:
                _paused = paused.Paused;
                if (!_paused && _admitting && runtime.Scheduler is { } scheduler)
                {
                    scheduler.Tell(new CapacityAvailable(queue), Self); // (the scheduler starts after the pools)
                }

                return true;
            case InterruptAttempt:
                foreach (var busy in _busy.Keys)
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
        if (_busy.Remove(worker, out var kind))
        {
            _free.Push(worker);
            runtime.KindLimits.Release(kind);
            if (_admitting)
            {
                runtime.Scheduler.Tell(new CapacityAvailable(queue), Self);
            }
        }
    }
}
