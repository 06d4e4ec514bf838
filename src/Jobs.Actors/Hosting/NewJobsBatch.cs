using Akka.Actor;
using Jobs.Actors.Entities;
using Jobs.Actors.Protocol;
using Jobs.Client;
using Jobs.Persistence.Journal;
using AkkaSerialization = Akka.Serialization.Serialization;

namespace Jobs.Actors.Hosting;

/// <summary>
/// Stores a batch of jobs whose ids are new in one transaction, without their entities: each job's first event is
/// written as its entity would write it (sequence number 1 of its stream, the same serializer and index row), so
/// the batch is one durable write whichever members the jobs' entities will live on. An id that already exists
/// conflicts on the journal's unique (stream, sequence number) key and nothing is stored: the caller then schedules
/// the items through their entities, which answer for existing jobs (return, reject or replace).
/// </summary>
internal sealed class NewJobsBatch(JobsRuntime runtime, ActorSystem system)
{
    private readonly string _writerId = Guid.NewGuid().ToString("N");

    /// <summary>True when every job was stored; false when one of the ids exists already (nothing stored).</summary>
    /// <exception cref="Exception">Storage failed (the outcome is unknown: the same ids again are safe).</exception>
    public async Task<bool> TryStoreAsync(IReadOnlyList<JobScheduled> jobs, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var writes = new List<AtomicWrite>(jobs.Count);
        foreach (var job in jobs)
        {
            var serializer = system.Serialization.FindSerializerFor(job);
            var stream = JobEntity.PersistenceIdOf(job.Id);
            var stored = new PersistentRepr(
                stream,
                1,
                AkkaSerialization.ManifestFor(serializer, job),
                serializer.ToBinary(job),
                now,
                _writerId,
                serializer.Identifier
            );
            writes.Add(new AtomicWrite(stream, [stored], Attachment: JobEntity.IndexRowOf(job.Id, JobState.Empty.Apply(job), runtime)));
        }

        try
        {
            await runtime.Journal.WriteGroupAsync(writes, cancellationToken).ConfigureAwait(false);
        }
        catch (JournalConflictException)
        {
            return false;
        }

        AfterStored(jobs);
        return true;
    }

    /// <summary>What an entity does when it stores a schedule: counters, watchers, and a wake-up for due jobs.</summary>
    private void AfterStored(IReadOnlyList<JobScheduled> jobs)
    {
        var now = runtime.Clock.GetUtcNow();
        foreach (var job in jobs)
        {
            runtime.Statistics.OnScheduled(now);
            runtime.Metrics.OnScheduled(job.Kind, job.Queue);
            if (runtime.Transitions.HasWatchers)
            {
                var state = JobState.Empty.Apply(job);
                runtime.Transitions.Publish(
                    new JobTransition(job.Id, job.Kind, job.Queue, state.StatusAt(now), "scheduled", 0, null, state.DueAt, now)
                );
            }
        }

        // The scheduler reads the due ones from the index and wakes their entities where free slots are.
        foreach (var queue in jobs.GroupBy(j => j.Queue))
        {
            runtime.Scheduler.Tell(new JobDue(queue.Key, queue.Min(j => j.DueAt)), ActorRefs.NoSender);
        }
    }
}
