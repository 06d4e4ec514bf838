using Jobs.Actors.Hosting;

namespace Jobs.Host;

/// <summary>Logs the node's instance statistics at a fixed interval while anything changes.</summary>
internal sealed partial class StatisticsReporter(JobsNode node, ILogger<StatisticsReporter> log, NodeOptions options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.StatisticsInterval);
        var last = string.Empty;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (node.Statistics is not { } s)
                {
                    continue;
                }

                var now = $"{s.Scheduled}/{s.Started}/{s.Succeeded}/{s.Failed}/{s.Retried}/{s.TimedOut}/{s.Recovered}/{s.Cancelled}";
                if (now != last)
                {
                    last = now;
                    Report(s.Scheduled, s.Started, s.Succeeded, s.Failed, s.Retried, s.TimedOut, s.Recovered, s.Cancelled);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Node statistics: scheduled {Scheduled}, started {Started}, succeeded {Succeeded}, failed "
            + "{Failed}, retried {Retried}, timed out {TimedOut}, recovered {Recovered}, cancelled {Cancelled}"
    )]
    private partial void Report(
        long scheduled,
        long started,
        long succeeded,
        long failed,
        long retried,
        long timedOut,
        long recovered,
        long cancelled
    );
}
