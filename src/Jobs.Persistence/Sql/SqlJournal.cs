using System.Data.Common;
using System.Runtime.CompilerServices;
using Jobs.Persistence.Journal;

namespace Jobs.Persistence.Sql;

/// <summary>
/// The journal logic shared by the SQL backends: group commit through <see cref="WriteBatcher"/>, fences checked in
/// the batch's transaction, write participants in the same transaction, and per-write isolation when a batch
/// hits a conflict (so one stale writer never fails its neighbours).
/// </summary>
public abstract class SqlJournal : IJournal, ILeaseStore
{
    private readonly IReadOnlyList<IWriteParticipant> _participants;
    private WriteBatcher? _batcher;

    /// <summary>Creates the journal.</summary>
    private protected SqlJournal(SqlNames names, JournalOptions options, IReadOnlyList<IWriteParticipant>? participants)
    {
        Names = names;
        Options = options;
        _participants = participants ?? [];
    }

    /// <summary>Table names in use.</summary>
    public SqlNames Names { get; }

    /// <summary>The options the journal was created with.</summary>
    public JournalOptions Options { get; }

    /// <inheritdoc />
    public abstract string Backend { get; }

    /// <summary>The SQL literal for false in the is_deleted column.</summary>
    private protected abstract string FalseLiteral { get; }

    /// <summary>The SQL literal for true in the is_deleted column.</summary>
    private protected abstract string TrueLiteral { get; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        AcquireOwnership();
        var connection = await OpenWriterConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CheckDurabilityAsync(connection, cancellationToken).ConfigureAwait(false);
            await MigrationRunner
                .ApplyAsync(connection, Names, "journal", JournalMigrations(), Options.AutoMigrate, cancellationToken)
                .ConfigureAwait(false);
            foreach (var participant in _participants)
            {
                await participant.EnsureSchemaAsync(connection, Names.Dialect, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await ReleaseWriterConnectionAsync(connection).ConfigureAwait(false);
        }

        _batcher = new WriteBatcher(Options.QueueCapacity, Options.MaxBatchSize, WriterParallelism, StoreBatchAsync, StoreGroupAsync);
    }

    /// <inheritdoc />
    public Task WriteAsync(AtomicWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        write.Validate();
        var batcher = _batcher ?? throw new InvalidOperationException("the journal is not started (call StartAsync)");
        return batcher.WriteAsync(write, cancellationToken);
    }

    /// <inheritdoc />
    public Task WriteGroupAsync(IReadOnlyList<AtomicWrite> writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        foreach (var write in writes)
        {
            write.Validate();
        }

        if (writes.Count == 0)
        {
            return Task.CompletedTask;
        }

        var batcher = _batcher ?? throw new InvalidOperationException("the journal is not started (call StartAsync)");
        return batcher.WriteGroupAsync(writes, cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<PersistentRepr> ReplayAsync(
        string persistenceId,
        long fromSequenceNr,
        long toSequenceNr,
        long max,
        [EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT sequence_nr, manifest, payload, created_at, writer, serializer_id FROM {Names.Journal} "
            + "WHERE persistence_id = @p AND sequence_nr >= @from AND sequence_nr <= "
            + $"@to AND is_deleted = {FalseLiteral} ORDER BY sequence_nr LIMIT @max";
        Add(command, "@p", persistenceId);
        Add(command, "@from", fromSequenceNr);
        Add(command, "@to", toSequenceNr);
        Add(command, "@max", max);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new PersistentRepr(
                persistenceId,
                reader.GetInt64(0),
                reader.GetString(1),
                (byte[])reader.GetValue(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.GetString(4),
                NullableInt(reader, 5)
            );
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, RecoveredEvents>> ReplayManyAsync(
        IReadOnlyList<(string PersistenceId, long FromSequenceNr)> streams,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(streams);
        var from = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (id, sequenceNr) in streams)
        {
            from[id] = sequenceNr;
        }

        var events = new Dictionary<string, List<PersistentRepr>>(StringComparer.Ordinal);
        var highest = new Dictionary<string, long>(StringComparer.Ordinal);
        if (from.Count > 0)
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();

            // Every row of these streams, the deleted marker included (it carries the highest number): one round trip.
            command.CommandText =
                $"SELECT persistence_id, sequence_nr, is_deleted, manifest, payload, created_at, writer, serializer_id FROM {Names.Journal} "
                + $"WHERE persistence_id IN ({SqlLists.BindInList(command, [.. from.Keys])}) ORDER BY persistence_id, sequence_nr";

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var id = reader.GetString(0);
                var sequenceNr = reader.GetInt64(1);
                highest[id] = Math.Max(highest.GetValueOrDefault(id), sequenceNr);
                if (IsDeleted(reader.GetValue(2)) || sequenceNr < from[id])
                {
                    continue;
                }

                if (!events.TryGetValue(id, out var list))
                {
                    events[id] = list = [];
                }

                list.Add(
                    new PersistentRepr(
                        id,
                        sequenceNr,
                        reader.GetString(3),
                        (byte[])reader.GetValue(4),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                        reader.GetString(6),
                        NullableInt(reader, 7)
                    )
                );
            }
        }

        return from.Keys.ToDictionary(
            id => id,
            id => new RecoveredEvents(events.TryGetValue(id, out var list) ? list : [], highest.GetValueOrDefault(id)),
            StringComparer.Ordinal
        );

        static bool IsDeleted(object value) =>
            value switch
            {
                bool b => b,
                long l => l != 0,
                int i => i != 0,
                _ => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) != 0,
            };
    }

    /// <inheritdoc />
    public async Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COALESCE(MAX(sequence_nr), 0) FROM {Names.Journal} WHERE persistence_id = @p";
        Add(command, "@p", persistenceId);
        return Convert.ToInt64(
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture
        );
    }

    /// <inheritdoc />
    public async Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Keep the highest row (marked deleted) so the stream's sequence numbers never restart.
        await using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText =
                $"DELETE FROM {Names.Journal} WHERE persistence_id = @p AND sequence_nr <= @to "
                + $"AND sequence_nr < (SELECT MAX(sequence_nr) FROM {Names.Journal} WHERE persistence_id = @p)";
            Add(delete, "@p", persistenceId);
            Add(delete, "@to", toSequenceNr);
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var mark = connection.CreateCommand())
        {
            mark.Transaction = transaction;
            mark.CommandText = $"UPDATE {Names.Journal} SET is_deleted = {TrueLiteral} WHERE persistence_id = @p AND sequence_nr <= @to";
            Add(mark, "@p", persistenceId);
            Add(mark, "@to", toSequenceNr);
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<long?> TryAcquireLeaseAsync(
        string name,
        string owner,
        string formerOwnerPrefix,
        TimeSpan duration,
        CancellationToken cancellationToken
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentException.ThrowIfNullOrEmpty(formerOwnerPrefix);
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (TakeOverLockSql is { } takeOverLock)
        {
            // Waits for every batch that checked this lease's fence and has not committed yet (they hold the lock shared).
            await using var wait = connection.CreateCommand();
            wait.Transaction = transaction;
            wait.CommandText = takeOverLock;
            Add(wait, "@n", name);
            await wait.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var epoch = await TakeLeaseAsync(connection, transaction, name, owner, formerOwnerPrefix, duration, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return epoch;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, long?>> TryAcquireLeasesAsync(
        IReadOnlyCollection<string> names,
        string owner,
        string formerOwnerPrefix,
        TimeSpan duration,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentException.ThrowIfNullOrEmpty(formerOwnerPrefix);
        if (names.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("a lease name is empty", nameof(names));
        }

        var taken = new Dictionary<string, long?>(StringComparer.Ordinal);
        if (names.Count == 0)
        {
            return taken;
        }

        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (TakeOverTryLockSql is { } tryLock)
            {
                // Only when no batch that checked this lease's fence is in flight: one that is would hold the others
                // of this transaction back too (a frozen writer's, for as long as it is frozen). That lease is left
                // out, for the caller to take alone.
                await using var probe = connection.CreateCommand();
                probe.Transaction = transaction;
                probe.CommandText = tryLock;
                Add(probe, "@n", name);
                if (await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
                {
                    continue;
                }
            }

            taken[name] = await TakeLeaseAsync(connection, transaction, name, owner, formerOwnerPrefix, duration, cancellationToken)
                .ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return taken;
    }

    /// <summary>
    /// Inserts lease <paramref name="name"/>, or takes it over when it is <paramref name="owner"/>'s, expired, or a
    /// former incarnation's, in one statement; the epoch it is held at, or null when another owner holds it.
    /// </summary>
    private async Task<long?> TakeLeaseAsync(
        DbConnection connection,
        DbTransaction transaction,
        string name,
        string owner,
        string formerOwnerPrefix,
        TimeSpan duration,
        CancellationToken cancellationToken
    )
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;

        // The epoch stays only while this owner's holding is live; every other change of hands makes it grow.
        command.CommandText =
            $"INSERT INTO {Names.Leases} AS l (name, owner, epoch, expires_at) VALUES (@n, @o, 1, {NowMillisSql} + @d) "
            + "ON CONFLICT (name) DO UPDATE SET "
            + $"epoch = CASE WHEN l.owner = excluded.owner AND l.expires_at > {NowMillisSql} THEN l.epoch ELSE l.epoch + 1 END, "
            + "owner = excluded.owner, expires_at = excluded.expires_at "
            + $"WHERE l.owner = excluded.owner OR l.expires_at <= {NowMillisSql} OR substr(l.owner, 1, length(@p)) = @p "
            + "RETURNING epoch";
        Add(command, "@n", name);
        Add(command, "@o", owner);
        Add(command, "@p", formerOwnerPrefix);
        Add(command, "@d", (long)duration.TotalMilliseconds);
        var epoch = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return epoch is null or DBNull ? null : Convert.ToInt64(epoch, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, long>> RenewLeasesAsync(
        string owner,
        IReadOnlyCollection<string> names,
        TimeSpan duration,
        CancellationToken cancellationToken
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(names);
        var held = new Dictionary<string, long>(StringComparer.Ordinal);
        if (names.Count == 0)
        {
            return held;
        }

        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"UPDATE {Names.Leases} SET expires_at = {NowMillisSql} + @d WHERE owner = @o AND {NameIn(command, names)} RETURNING name, epoch";
        Add(command, "@o", owner);
        Add(command, "@d", (long)duration.TotalMilliseconds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            held[reader.GetString(0)] = reader.GetInt64(1);
        }

        return held;
    }

    /// <inheritdoc />
    public async Task ReleaseLeaseAsync(string name, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE {Names.Leases} SET expires_at = 0 WHERE name = @n AND owner = @o";
        Add(command, "@n", name);
        Add(command, "@o", owner);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset> ReadClockAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {NowMillisSql}";
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A snapshot store on the same database and table prefix.</summary>
    public Snapshots.ISnapshotStore CreateSnapshotStore() => new SqlSnapshotStore(Names, OpenConnectionAsync);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_batcher is not null)
        {
            await _batcher.DisposeAsync().ConfigureAwait(false);
        }

        await DisposeCoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The statement that takes lease @n's takeover lock only if no batch holds it now (true when taken), or null when
    /// batches cannot overlap a takeover (one writer).
    /// </summary>
    private protected virtual string? TakeOverTryLockSql => null;

    /// <summary>
    /// SQL that a lease's taking (parameter @n: its name) runs first in its transaction, to wait for the batches whose
    /// fence check of that lease has not committed yet; null where batches cannot overlap a takeover (one writer).
    /// </summary>
    private protected virtual string? TakeOverLockSql => null;

    /// <summary>The database's clock in unix milliseconds, as SQL (lease expiry is judged by it).</summary>
    private protected abstract string NowMillisSql { get; }

    /// <summary>A condition "name is one of <paramref name="names"/>", its parameters added to <paramref name="command"/>.</summary>
    private protected abstract string NameIn(DbCommand command, IReadOnlyCollection<string> names);

    /// <summary>How many batches may be in flight at once.</summary>
    private protected abstract int WriterParallelism { get; }

    /// <summary>Opens a connection (pooled for readers; the batch writer may get a dedicated one).</summary>
    private protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Opens the connection a batch is written on.</summary>
    private protected abstract Task<DbConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Releases a writer connection from <see cref="OpenWriterConnectionAsync"/>.</summary>
    private protected abstract ValueTask ReleaseWriterConnectionAsync(DbConnection connection);

    /// <summary>Asserts the engine is configured for durable commits.</summary>
    private protected abstract Task CheckDurabilityAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>The journal's schema migrations for this dialect.</summary>
    private protected abstract IReadOnlyList<Migration> JournalMigrations();

    /// <summary>Inserts every event of <paramref name="writes"/> in the transaction.</summary>
    private protected abstract Task InsertAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    );

    /// <summary>Whether <see cref="InsertCheckingFencesAsync"/> is implemented (and preferred to a check of its own).</summary>
    private protected virtual bool InsertChecksFences => false;

    /// <summary>
    /// Inserts every event of <paramref name="writes"/> whose fence holds, checked by the insert itself; true when all
    /// were inserted (false: some fence failed, and the caller rolls the transaction back).
    /// </summary>
    private protected virtual Task<bool> InsertCheckingFencesAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    ) => throw new NotSupportedException();

    /// <summary>Returns the fences among <paramref name="fences"/> that do not hold (locking the ones that do until commit).</summary>
    private protected abstract Task<HashSet<WriteFence>> FailedFencesAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyCollection<WriteFence> fences,
        CancellationToken cancellationToken
    );

    /// <summary>True when <paramref name="error"/> is a unique-key violation.</summary>
    private protected abstract bool IsUniqueViolation(DbException error);

    /// <summary>Takes whatever makes this journal the database's only writer, before anything is read or written.</summary>
    private protected virtual void AcquireOwnership() { }

    /// <summary>Releases backend resources.</summary>
    private protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    /// <summary>A nullable integer column (SQLite answers long, PostgreSQL int).</summary>
    internal static int? NullableInt(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToInt32(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private protected static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private async Task StoreBatchAsync(IReadOnlyList<PendingWrite> batch, CancellationToken cancellationToken)
    {
        var connection = await OpenWriterConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (
                InsertChecksFences
                && batch.Any(p => p.Write.Fence is not null)
                && await TryStoreCheckingFencesAsync(connection, batch, cancellationToken).ConfigureAwait(false)
            )
            {
                return;
            }

            List<PendingWrite> accepted;
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                accepted = await FilterFencesAsync(connection, transaction, batch, cancellationToken).ConfigureAwait(false);
                try
                {
                    await WriteInTransactionAsync(connection, transaction, accepted, cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    foreach (var pending in accepted)
                    {
                        pending.Completion.TrySetResult();
                    }

                    return;
                }
                catch (DbException ex) when (IsUniqueViolation(ex))
                {
                    await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }

            // Someone else wrote one of these streams: store each write on its own to find out which.
            foreach (var pending in accepted)
            {
                await StoreAloneAsync(connection, pending, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await ReleaseWriterConnectionAsync(connection).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stores the batch with its fences checked by the insert itself (no round trip of their own); false, with nothing
    /// stored, if a fence failed or a stream's sequence number was taken: the caller then stores it the careful way
    /// (fences first, then each write alone on a conflict). Only a member that lost a lease, or a stale writer, pays that.
    /// </summary>
    private async Task<bool> TryStoreCheckingFencesAsync(
        DbConnection connection,
        IReadOnlyList<PendingWrite> batch,
        CancellationToken cancellationToken
    )
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writes = batch.Select(p => p.Write).ToList();
            if (!await InsertCheckingFencesAsync(connection, transaction, writes, cancellationToken).ConfigureAwait(false))
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                return false;
            }

            await WriteParticipantsAsync(transaction, writes, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex) when (IsUniqueViolation(ex))
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            return false;
        }

        foreach (var pending in batch)
        {
            pending.Completion.TrySetResult();
        }

        return true;
    }

    /// <summary>Stores a group in one transaction of its own: all of it, or none (the caller gets the error).</summary>
    private async Task StoreGroupAsync(PendingWrite group, CancellationToken cancellationToken)
    {
        var pending = group.Group!.Select(w => new PendingWrite(w)).ToList();
        var connection = await OpenWriterConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var accepted = await FilterFencesAsync(connection, transaction, pending, cancellationToken).ConfigureAwait(false);
            if (accepted.Count != pending.Count)
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                group.Completion.TrySetException(new FencingException(pending.First(p => !accepted.Contains(p)).Write.Fence!));
                return;
            }

            try
            {
                await WriteInTransactionAsync(connection, transaction, accepted, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                group.Completion.TrySetResult();
            }
            catch (DbException ex) when (IsUniqueViolation(ex))
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                group.Completion.TrySetException(new JournalConflictException(group.Write.PersistenceId, group.Write.LowestSequenceNr, ex));
            }
        }
        finally
        {
            await ReleaseWriterConnectionAsync(connection).ConfigureAwait(false);
        }
    }

    private async Task<List<PendingWrite>> FilterFencesAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyList<PendingWrite> batch,
        CancellationToken cancellationToken
    )
    {
        var fences = batch.Select(p => p.Write.Fence).OfType<WriteFence>().ToHashSet();
        if (fences.Count == 0)
        {
            return [.. batch];
        }

        var failed = await FailedFencesAsync(connection, transaction, fences, cancellationToken).ConfigureAwait(false);
        var accepted = new List<PendingWrite>(batch.Count);
        foreach (var pending in batch)
        {
            if (pending.Write.Fence is { } fence && failed.Contains(fence))
            {
                pending.Completion.TrySetException(new FencingException(fence));
            }
            else
            {
                accepted.Add(pending);
            }
        }

        return accepted;
    }

    private async Task StoreAloneAsync(DbConnection connection, PendingWrite pending, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if ((await FilterFencesAsync(connection, transaction, [pending], cancellationToken).ConfigureAwait(false)).Count == 0)
            {
                return;
            }

            await WriteInTransactionAsync(connection, transaction, [pending], cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            pending.Completion.TrySetResult();
        }
        catch (DbException ex) when (IsUniqueViolation(ex))
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            pending.Completion.TrySetException(new JournalConflictException(pending.Write.PersistenceId, pending.Write.LowestSequenceNr, ex));
        }
    }

    private async Task WriteInTransactionAsync(
        DbConnection connection,
        DbTransaction transaction,
        List<PendingWrite> writes,
        CancellationToken cancellationToken
    )
    {
        if (writes.Count == 0)
        {
            return;
        }

        var atomicWrites = writes.Select(w => w.Write).ToList();
        await InsertAsync(connection, transaction, atomicWrites, cancellationToken).ConfigureAwait(false);
        await WriteParticipantsAsync(transaction, atomicWrites, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The write participants' part of <paramref name="writes"/> (their attachments), in the same transaction.</summary>
    private async Task WriteParticipantsAsync(DbTransaction transaction, List<AtomicWrite> writes, CancellationToken cancellationToken)
    {
        if (_participants.Count > 0)
        {
            var attached = writes.Where(w => w.Attachment is not null).ToList();
            if (attached.Count > 0)
            {
                foreach (var participant in _participants)
                {
                    await participant.WriteAsync(transaction, Names.Dialect, attached, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
