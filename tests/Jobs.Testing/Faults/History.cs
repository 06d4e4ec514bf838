using System.Collections.Concurrent;
using System.Globalization;

namespace Jobs.Testing.Faults;

/// <summary>What happened to one job, or to the cluster, at one moment of a fault scenario.</summary>
public enum HistoryKind
{
    /// <summary>A client called Schedule for the job (before the answer).</summary>
    Attempted,

    /// <summary>The Schedule call answered: the job is acknowledged (durable).</summary>
    Acknowledged,

    /// <summary>The Schedule call failed without saying whether the job was stored (a timeout, a dropped connection).</summary>
    Unknown,

    /// <summary>The Schedule call was refused: the job was not stored.</summary>
    Refused,

    /// <summary>A handler started an attempt of the job on a node.</summary>
    Started,

    /// <summary>A handler finished an attempt of the job on a node (it returned; the job system may still reject its report).</summary>
    Finished,

    /// <summary>The job's state read at the end: <see cref="HistoryEvent.Detail"/> is its status.</summary>
    Final,

    /// <summary>A fault hit <see cref="HistoryEvent.Node"/> (kill, freeze, cut): <see cref="HistoryEvent.Detail"/> says which.</summary>
    Fault,

    /// <summary>
    /// A fault of <see cref="HistoryEvent.Node"/> that lasts (a partition: the node runs on, cut off, until it is
    /// removed) ended here: what the node started until then is as much in flight as what it ran when it began.
    /// </summary>
    FaultEnded,

    /// <summary>
    /// The job is meant to end in <see cref="HistoryEvent.Detail"/> (a status), not Succeeded: a poison job that
    /// must end Failed once its attempts are used up. Recorded when the test schedules it.
    /// </summary>
    Expected,

    /// <summary>
    /// How the job system stored one attempt (<see cref="HistoryEvent.Node"/>, <see cref="HistoryEvent.Attempt"/>),
    /// read at the end: <see cref="HistoryEvent.Detail"/> is its outcome. An attempt stored as lost never had its
    /// report stored, whatever its handler did.
    /// </summary>
    Recorded,
}

/// <summary>One entry of a history: when, what, which job (empty for a fault), where, which attempt, and a detail.</summary>
public sealed record HistoryEvent(DateTimeOffset At, HistoryKind Kind, string JobId, string? Node = null, int Attempt = 0, string? Detail = null);

/// <summary>
/// A recorded history of a fault scenario: what clients asked and were told, what handlers ran where, which faults
/// hit which node, and each job's final state. Safe to record into from many threads.
/// </summary>
public sealed class History
{
    private readonly ConcurrentQueue<HistoryEvent> _events = new();

    /// <summary>Every event recorded, in no particular order.</summary>
    public IReadOnlyList<HistoryEvent> Events => [.. _events];

    /// <summary>Records an event.</summary>
    public void Add(HistoryEvent e) => _events.Enqueue(e);

    /// <summary>Records an event now.</summary>
    public void Add(HistoryKind kind, string jobId, string? node = null, int attempt = 0, string? detail = null) =>
        _events.Enqueue(new HistoryEvent(DateTimeOffset.UtcNow, kind, jobId, node, attempt, detail));

    /// <summary>
    /// Reads a node's handler log: lines "start|end &lt;unix-ms&gt; &lt;job&gt; &lt;attempt&gt;" (as the fault suite's
    /// node process writes them, flushed per line, so a killed process loses no line it wrote). A node whose clock
    /// was set <paramref name="clockSkew"/> ahead (faked) wrote its times that far ahead: they are taken back.
    /// </summary>
    public void AddHandlerLog(string node, string path, TimeSpan clockSkew = default)
    {
        if (!File.Exists(path))
        {
            return;
        }

        foreach (var line in File.ReadAllLines(path))
        {
            var parts = line.Split(' ');
            if (parts.Length < 4 || parts[0] is not ("start" or "end"))
            {
                continue; // a line cut short by a kill
            }

            var at = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[1], CultureInfo.InvariantCulture)) - clockSkew;
            Add(
                new HistoryEvent(
                    at,
                    parts[0] == "start" ? HistoryKind.Started : HistoryKind.Finished,
                    parts[2],
                    node,
                    int.Parse(parts[3], CultureInfo.InvariantCulture)
                )
            );
        }
    }
}
