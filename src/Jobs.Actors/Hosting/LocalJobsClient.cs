using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Akka.Actor;
using Jobs.Actors.Entities;
using Jobs.Actors.Protocol;
using Jobs.Actors.Recurring;
using Jobs.Client;
using Jobs.Persistence.Journal;

namespace Jobs.Actors.Hosting;

/// <summary>The in-process <see cref="IJobsClient"/>: commands go to the job entities through the shard region, queries to the index.</summary>
internal sealed class LocalJobsClient(JobsRuntime runtime, ScheduleValidator validator) : IJobsClient
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a read waits for an answer before it asks again (see <see cref="ReadAsync{T}"/>).</summary>
    private static readonly TimeSpan ReadRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a call that changes a job waits for an answer before it sends its request again (see
    /// <see cref="ScheduleOneAsync"/>).
    /// </summary>
    private static readonly TimeSpan CallResendAfter = TimeSpan.FromSeconds(2);

    /// <summary>How long a call waits for its entity before it checks that storage answers.</summary>
    private static readonly TimeSpan StorageProbeAfter = TimeSpan.FromSeconds(1);

    /// <summary>How long that check waits for the journal.</summary>
    private static readonly TimeSpan StorageProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly object _probeGate = new();
    private readonly NewJobsBatch _newJobs = new(runtime, runtime.System);
    private Task<string?>? _probe;
    private long _probeStarted;

    public async Task<ScheduleResult> ScheduleAsync(ScheduleRequest request, CancellationToken cancellationToken = default)
    {
        var definition = validator.Validate(request);
        using var activity = JobsTelemetry.StartSchedule(definition.Kind);
        activity?.SetTag("job.id", definition.Id);
        var traceParent = activity?.Id ?? Activity.Current?.Id;
        return await ScheduleOneAsync(
                new ScheduleJob(traceParent is null ? definition : definition with { TraceParent = traceParent }, request.OnConflict),
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a schedule request to its entity, and the same request again after each <see cref="CallResendAfter"/>
    /// without an answer, up to <see cref="AskTimeout"/>. Sharding drops the messages a shard's region holds when the
    /// shard is handed to another member (a rolling restart, a rebalance), and a reply can be lost with a member that
    /// stops: measured, one such call in a rolling restart waited the whole 30 s for nothing. The request carries a
    /// token of the call, stored with the job it creates; the entity answers a repeat as it answered the first, so the
    /// job is stored once and the caller learns that its call created it.
    /// </summary>
    private Task<ScheduleResult> ScheduleOneAsync(ScheduleJob schedule, CancellationToken cancellationToken) =>
        AskRepeatedlyAsync<ScheduleResult>(
            schedule with
            {
                Definition = schedule.Definition with { Request = NewRequestToken() },
            },
            CallResendAfter,
            cancellationToken
        );

    /// <summary>
    /// A token naming one call (a schedule, cancel, reschedule or retry), stored with what it changed, by which its
    /// entity knows the call's repeats.
    /// </summary>
    private static string NewRequestToken() => Convert.ToHexString(BitConverter.GetBytes(Random.Shared.NextInt64()));

    public async Task<IReadOnlyList<ScheduleManyItemResult>> ScheduleManyAsync(
        IReadOnlyList<ScheduleRequest> requests,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count > runtime.Settings.MaxBatch)
        {
            throw new JobValidationException(
                "requests",
                $"has {requests.Count} items; at most {runtime.Settings.MaxBatch} are allowed in one batch",
                JobValidationException.TooLarge
            );
        }

        // One durable write for the whole batch: every entity that creates (or replaces) a job adds its event to a
        // shared write group, which commits in one transaction when all have answered. Invalid items fail alone.
        var results = new ScheduleManyItemResult?[requests.Count];
        var firstOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        var sends = new List<(int Index, JobScheduled Definition, UniqueConflict OnConflict)>();
        var ids = new string?[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            try
            {
                var definition = validator.Validate(requests[i]);
                if (Activity.Current?.Id is { } traceParent)
                {
                    definition = definition with { TraceParent = traceParent };
                }

                ids[i] = definition.Id;
                if (firstOfId.TryAdd(definition.Id, i))
                {
                    sends.Add((i, definition, requests[i].OnConflict));
                }
            }
            catch (JobsException ex)
            {
                results[i] = new ScheduleManyItemResult(i, null, ex);
            }
        }

        using var activity = JobsTelemetry.Source.StartActivity("schedule-many", ActivityKind.Producer);
        activity?.SetTag("jobs.count", sends.Count);
        if (activity?.Id is { } batchTrace)
        {
            sends = [.. sends.Select(s => s with { Definition = s.Definition with { TraceParent = batchTrace } })];
        }

        var replies = await StoreBatchAsync(sends, cancellationToken).ConfigureAwait(false);
        foreach (var reply in replies)
        {
            results[reply.Index] = reply;
        }

        // Later items with an id already in this batch: the earlier item's job, which already existed for them.
        for (var i = 0; i < requests.Count; i++)
        {
            if (results[i] is null)
            {
                var firstIndex = firstOfId[ids[i]!];
                var first = results[firstIndex]!;
                results[i] =
                    requests[i].Kind != requests[firstIndex].Kind
                        ? new ScheduleManyItemResult(i, null, new JobKindConflictException(ids[i]!, requests[firstIndex].Kind, requests[i].Kind))
                        : new ScheduleManyItemResult(
                            i,
                            first.Result is { } r ? r with { AlreadyExisted = true, Replaced = false } : null,
                            first.Error
                        );
            }
        }

        return results!;
    }

    /// <summary>
    /// One durable write for the batch. Ids that are all new (the usual batch) are stored in one transaction without
    /// their entities (<see cref="NewJobsBatch"/>). When some exist, the entities answer for theirs: on a node alone
    /// in its cluster every entity adds its event to a shared write group that commits in one transaction; across
    /// members (entities elsewhere cannot join a group of this process) each item is stored on its own.
    /// </summary>
    private async Task<ScheduleManyItemResult[]> StoreBatchAsync(
        List<(int Index, JobScheduled Definition, UniqueConflict OnConflict)> sends,
        CancellationToken cancellationToken
    )
    {
        try
        {
            if (sends.Count > 0 && await _newJobs.TryStoreAsync([.. sends.Select(s => s.Definition)], cancellationToken).ConfigureAwait(false))
            {
                return [.. sends.Select(s => new ScheduleManyItemResult(s.Index, new ScheduleResult(s.Definition.Id, AlreadyExisted: false), null))];
            }
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            var failure = new JobsException(
                "storage-failure",
                $"storing the batch failed ({ex.GetBaseException().GetType().Name}); nothing or all of it may be stored: the same ids again are safe",
                ex
            );
            return [.. sends.Select(s => new ScheduleManyItemResult(s.Index, null, failure))];
        }

        var alone = Akka.Cluster.Cluster.Get(runtime.System).State.Members.Count <= 1;
        var group = alone ? new JournalWriteGroup(runtime.Journal, sends.Count, AskTimeout) : null;
        return await Task.WhenAll(
                sends.Select(async send =>
                {
                    try
                    {
                        var schedule = new ScheduleJob(send.Definition, send.OnConflict);
                        var result = group is null
                            ? await ScheduleOneAsync(schedule, cancellationToken).ConfigureAwait(false)
                            : await AskAsync<ScheduleResult>(new ScheduleJobInBatch(schedule, group), cancellationToken).ConfigureAwait(false);
                        return new ScheduleManyItemResult(send.Index, result, null);
                    }
                    catch (JobsException ex)
                    {
                        return new ScheduleManyItemResult(send.Index, null, ex);
                    }
                })
            )
            .ConfigureAwait(false);
    }

    public Task<JobInfo> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ScheduleValidator.ValidateJobId(jobId);
        return ReadAsync<JobInfo>(new GetJob(jobId), cancellationToken);
    }

    public Task CancelAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ScheduleValidator.ValidateJobId(jobId);
        return CommandAsync(new CancelJob(jobId, Request: NewRequestToken()), cancellationToken);
    }

    public Task RescheduleAsync(string jobId, DateTimeOffset runAt, CancellationToken cancellationToken = default) =>
        Reschedule(jobId, runAt, null, cancellationToken);

    public Task RescheduleAsync(string jobId, DateTimeOffset runAt, long ifRevision, CancellationToken cancellationToken = default) =>
        Reschedule(jobId, runAt, ifRevision, cancellationToken);

    public Task DestroyAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ScheduleValidator.ValidateJobId(jobId);
        return DestroyOnceAsync(new DestroyJob(jobId), cancellationToken);
    }

    public Task DestroyAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default)
    {
        ScheduleValidator.ValidateJobId(jobId);
        return DestroyOnceAsync(new DestroyJob(jobId, ifRevision), cancellationToken);
    }

    public Task RetryAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ScheduleValidator.ValidateJobId(jobId);
        return CommandAsync(new RetryJob(jobId, NewRequestToken()), cancellationToken);
    }

    public Task CancelAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default)
    {
        ScheduleValidator.ValidateJobId(jobId);
        return CommandAsync(new CancelJob(jobId, ifRevision, NewRequestToken()), cancellationToken);
    }

    /// <summary>
    /// Sends a cancel, reschedule or retry call (carrying its token) to its entity, and again after each
    /// <see cref="CallResendAfter"/> without an answer, as schedule calls are (see <see cref="ScheduleOneAsync"/>):
    /// the entity answers a repeat of the call that last changed the job as done, without changing it again.
    /// </summary>
    private Task CommandAsync(IJobMessage command, CancellationToken cancellationToken) =>
        AskRepeatedlyAsync<JobAck>(command, CallResendAfter, cancellationToken);

    /// <summary>
    /// Sends a destroy call, and again after each <see cref="CallResendAfter"/> without an answer (see
    /// <see cref="RemoveOnceAsync{TNotFound}"/>).
    /// </summary>
    private Task DestroyOnceAsync(DestroyJob destroy, CancellationToken cancellationToken) =>
        RemoveOnceAsync<JobNotFoundException>(destroy, cancellationToken);

    /// <summary>
    /// Sends a call that removes what it names (a job, a recurring schedule), and again after each
    /// <see cref="CallResendAfter"/> without an answer. What is removed keeps nothing, not even the call's token: a
    /// repeat finds nothing, which after a repeat means an earlier send removed it and its answer was lost, so the
    /// call succeeds (a first send that finds nothing still fails as not found).
    /// </summary>
    private async Task RemoveOnceAsync<TNotFound>(IJobMessage remove, CancellationToken cancellationToken, IActorRef? region = null)
        where TNotFound : JobsException
    {
        var sends = 0;
        try
        {
            await AskRepeatedlyAsync<JobAck>(remove, CallResendAfter, cancellationToken, region, onSend: () => sends++).ConfigureAwait(false);
        }
        catch (TNotFound) when (sends > 1)
        {
            // Removed by an earlier send of this call.
        }
    }

    private Task Reschedule(string jobId, DateTimeOffset runAt, long? ifRevision, CancellationToken cancellationToken)
    {
        ScheduleValidator.ValidateJobId(jobId);
        if (runAt.Year >= 9999)
        {
            throw new JobValidationException("runAt", "must be before the year 9999");
        }

        return CommandAsync(new RescheduleJob(jobId, runAt, ifRevision, NewRequestToken()), cancellationToken);
    }

    public Task<IReadOnlyDictionary<JobStatus, long>> CountAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Query(() => runtime.Index.CountAsync(query, runtime.Clock.GetUtcNow(), cancellationToken));
    }

    public Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit < 1 || query.Limit > runtime.Settings.MaxPageSize)
        {
            throw new JobValidationException("limit", $"must be between 1 and {runtime.Settings.MaxPageSize}");
        }

        return Query(() => runtime.Index.ListAsync(query, runtime.Clock.GetUtcNow(), cancellationToken));
    }

    public async IAsyncEnumerable<JobTransition> WatchAsync(WatchQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Subscribe before reading the current state, so nothing that happens in between is missed.
        using var subscription = runtime.Transitions.Subscribe(query);
        await subscription.Armed.WaitAsync(cancellationToken).ConfigureAwait(false); // the other members send what it wants
        if (query.JobId is { } id)
        {
            var info = await GetAsync(id, cancellationToken).ConfigureAwait(false);
            var last = info.Attempts.Count > 0 ? info.Attempts[^1] : null;
            var current = new JobTransition(
                info.Id,
                info.Kind,
                info.Queue,
                info.Status,
                "current",
                last?.Number ?? 0,
                last?.Outcome,
                info.DueAt,
                runtime.Clock.GetUtcNow()
            );
            yield return current;
            if (current.IsFinal)
            {
                yield break;
            }
        }

        while (true)
        {
            JobTransition transition;
            try
            {
                if (!await subscription.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield break;
                }

                if (!subscription.Reader.TryRead(out transition!))
                {
                    continue;
                }
            }
            catch (ChannelClosedException ex) when (ex.InnerException is JobsException lagged)
            {
                throw lagged;
            }

            yield return transition;
            if (query.JobId is not null && transition.IsFinal)
            {
                yield break;
            }
        }
    }

    public Task<RecurringScheduleInfo> SetRecurringAsync(RecurringScheduleRequest request, CancellationToken cancellationToken = default)
    {
        var definition = validator.ValidateRecurring(request, runtime.NamedSchedules);
        // Sent again without an answer (see CommandAsync): the schedule's entity answers a repeat with the schedule,
        // writing nothing, as the definition already is as asked.
        return AskRepeatedlyAsync<RecurringScheduleInfo>(new SetRecurring(definition), CallResendAfter, cancellationToken, runtime.Recurring);
    }

    public Task<RecurringScheduleInfo> GetRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        ReadAsync<RecurringScheduleInfo>(new GetRecurring(CheckName(name)), cancellationToken, runtime.Recurring);

    public async Task<IReadOnlyList<RecurringScheduleInfo>> ListRecurringAsync(CancellationToken cancellationToken = default)
    {
        var names = await Query(() => runtime.RecurringIndex.NamesAsync(10_000, cancellationToken)).ConfigureAwait(false);
        var infos = new List<RecurringScheduleInfo>(names.Count);
        foreach (var name in names)
        {
            try
            {
                infos.Add(await GetRecurringAsync(name, cancellationToken).ConfigureAwait(false));
            }
            catch (RecurringNotFoundException)
            {
                // Deleted meanwhile.
            }
        }

        return infos;
    }

    public Task PauseRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        AskRepeatedlyAsync<JobAck>(new PauseRecurring(CheckName(name)), CallResendAfter, cancellationToken, runtime.Recurring);

    public Task ResumeRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        AskRepeatedlyAsync<JobAck>(new ResumeRecurring(CheckName(name)), CallResendAfter, cancellationToken, runtime.Recurring);

    /// <summary>Deletes a schedule, its call sent again without an answer (see <see cref="RemoveOnceAsync{TNotFound}"/>).</summary>
    public Task DeleteRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        RemoveOnceAsync<RecurringNotFoundException>(new DeleteRecurring(CheckName(name)), cancellationToken, runtime.Recurring);

    public async Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken = default)
    {
        var queues = new List<QueueInfo>();
        foreach (var (name, pool) in runtime.Pools.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var status = await pool.Ask<Protocol.PoolStatus>(Protocol.GetPoolStatus.Instance, AskTimeout, cancellationToken).ConfigureAwait(false);
            var counts = await Query(() => runtime.Index.CountAsync(new JobQuery { Queue = name }, runtime.Clock.GetUtcNow(), cancellationToken))
                .ConfigureAwait(false);
            queues.Add(
                new QueueInfo
                {
                    Name = name,
                    Workers = status.Workers,
                    Running = status.Busy,
                    Paused = status.Paused,
                    Order = runtime.Settings.OrderOf(name),
                    Queued = counts[JobStatus.Queued],
                    Scheduled = counts[JobStatus.Scheduled],
                }
            );
        }

        return queues;
    }

    public Task PauseQueueAsync(string queue, CancellationToken cancellationToken = default) => SetPausedAsync(queue, true, cancellationToken);

    public Task ResumeQueueAsync(string queue, CancellationToken cancellationToken = default) => SetPausedAsync(queue, false, cancellationToken);

    private async Task SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(queue) || !runtime.QueueControls.TryGetValue(queue, out var control))
        {
            throw new JobValidationException(
                "queue",
                $"'{queue}' is not a configured queue (configured: {string.Join(", ", runtime.QueueControls.Keys.Order(StringComparer.Ordinal))})"
            );
        }

        await control.AskEntity<JobAck>(new Workers.SetQueuePaused(paused), AskTimeout, cancellationToken).ConfigureAwait(false);
    }

    private static string CheckName(string name)
    {
        ScheduleValidator.ValidateJobId(name, "name");
        return name;
    }

    /// <summary>
    /// Asks a job's entity. An entity whose storage is down cannot answer (its recovery or write fails and it stops),
    /// so a call that has no answer after <see cref="StorageProbeAfter"/> asks the journal for a read: when that
    /// fails too, the call fails at once with storage-failure instead of waiting out the whole ask timeout.
    /// </summary>
    private async Task<T> AskAsync<T>(IJobMessage message, CancellationToken cancellationToken, IActorRef? region = null, TimeSpan? timeout = null)
    {
        var ask = (region ?? runtime.Region).AskEntity<T>(message, timeout ?? AskTimeout, cancellationToken);
        try
        {
            try
            {
                // WaitAsync drops its timer as soon as the answer comes, so the usual, fast call leaves nothing behind.
                return await ask.WaitAsync(StorageProbeAfter, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (!ask.IsCompleted)
            {
                // No answer yet: is it storage?
            }

            if (await StorageFailureAsync(cancellationToken).ConfigureAwait(false) is { } failure && !ask.IsCompleted)
            {
                // The entity's answer, if one ever comes, is not awaited: observe it so its failure is not unobserved.
                _ = ask.ContinueWith(
                    static t => _ = t.Exception,
                    CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted,
                    TaskScheduler.Default
                );
                throw new JobsException(
                    "storage-failure",
                    $"'{message.JobId}' cannot answer: the job store is not answering ({failure}); try again shortly"
                );
            }

            return await ask.ConfigureAwait(false);
        }
        catch (AskTimeoutException ex)
        {
            throw new JobsException("timeout", $"'{message.JobId}' did not answer within {timeout ?? AskTimeout}", ex);
        }
    }

    /// <summary>
    /// Asks an entity a question that changes nothing, again after each <see cref="ReadRetryAfter"/> without an
    /// answer, up to <see cref="AskTimeout"/>: a question sent to a member that just died is lost with it, and asked
    /// again it reaches the entity's new home once the cluster has removed that member.
    /// </summary>
    private Task<T> ReadAsync<T>(IJobMessage message, CancellationToken cancellationToken, IActorRef? region = null) =>
        AskRepeatedlyAsync<T>(message, ReadRetryAfter, cancellationToken, region);

    /// <summary>
    /// Asks an entity, and asks again with the same message after each <paramref name="againAfter"/> without an
    /// answer, up to <see cref="AskTimeout"/> in all; only for messages the entity answers the same however often
    /// they arrive.
    /// </summary>
    private async Task<T> AskRepeatedlyAsync<T>(
        IJobMessage message,
        TimeSpan againAfter,
        CancellationToken cancellationToken,
        IActorRef? region = null,
        Action? onSend = null
    )
    {
        var deadline = Environment.TickCount64 + (long)AskTimeout.TotalMilliseconds;
        while (true)
        {
            var left = TimeSpan.FromMilliseconds(deadline - Environment.TickCount64);
            onSend?.Invoke();
            try
            {
                return await AskAsync<T>(message, cancellationToken, region, left < againAfter ? left : againAfter).ConfigureAwait(false);
            }
            catch (JobsException ex) when (ex.ErrorCode == "timeout")
            {
                if (deadline - Environment.TickCount64 <= 0)
                {
                    throw new JobsException("timeout", $"'{message.JobId}' did not answer within {AskTimeout}", ex.InnerException);
                }

                // No answer yet: ask again (the entity answers a repeat as it did the first).
            }
        }
    }

    /// <summary>
    /// Why the journal does not answer a read within <see cref="StorageProbeTimeout"/>, or null when it does. Calls
    /// that wait at the same time share one probe (a batch of thousands makes one read, not thousands).
    /// </summary>
    private Task<string?> StorageFailureAsync(CancellationToken cancellationToken)
    {
        lock (_probeGate)
        {
            if (_probe is null || Environment.TickCount64 - _probeStarted > (long)StorageProbeAfter.TotalMilliseconds)
            {
                _probeStarted = Environment.TickCount64;
                _probe = ProbeStorageAsync();
            }

            return _probe.WaitAsync(cancellationToken);
        }
    }

    private async Task<string?> ProbeStorageAsync()
    {
        using var bounded = new CancellationTokenSource(StorageProbeTimeout);
        try
        {
            await runtime.ProbeJournalAsync(bounded.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            return "no answer in time";
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return ex.GetBaseException().GetType().Name; // the message may name hosts: it stays out of answers
        }
    }

    /// <summary>Runs an index query; a database that does not answer is a storage-failure (503), not a bug (500).</summary>
    private static async Task<T> Query<T>(Func<Task<T>> query)
    {
        try
        {
            return await query().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw new JobsException(
                "storage-failure",
                $"the job store is not answering ({ex.GetBaseException().GetType().Name}); try again shortly",
                ex
            );
        }
    }

    private static bool IsStorageFailure(Exception ex) =>
        ex is System.Data.Common.DbException or IOException or TimeoutException or System.Net.Sockets.SocketException
        || ex is InvalidOperationException { InnerException: System.Data.Common.DbException or System.Net.Sockets.SocketException or IOException };
}
