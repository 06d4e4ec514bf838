using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Jobs.Actors.Hosting;
using Jobs.Client;

namespace Jobs.Actors.Tests;

/// <summary>Traces and metrics as an OpenTelemetry listener would see them.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Attempts_AreTraced_AndCounted()
    {
        using var activities = new Jobs.Testing.ActivityRecorder(JobsTelemetry.Name);
        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == JobsTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>(
            (i, v, tags, _) => measurements.Enqueue((i.Name, v, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)))
        );
        meterListener.SetMeasurementEventCallback<double>(
            (i, v, tags, _) => measurements.Enqueue((i.Name, v, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)))
        );
        meterListener.Start();

        await using var node = await TestNode.StartAsync(Backend.Memory);
        var ok = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("traced")))).JobId;
        var failing = (await node.Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(0, Permanent: true)))).JobId;
        var thrown = (await node.Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(5)) with { MaxAttempts = 1 })).JobId;
        await node.WaitForStatusAsync(ok, JobStatus.Succeeded);
        await node.WaitForStatusAsync(failing, JobStatus.Failed);
        await node.WaitForStatusAsync(thrown, JobStatus.Failed);

        var mine = activities.OfJobs(ok, failing, thrown).Where(a => a.Kind == ActivityKind.Consumer).ToList();
        Assert.Equal(3, mine.Count);
        var echo = Assert.Single(mine, a => (string?)a.GetTagItem("job.id") == ok);
        Assert.Equal("job echo", echo.DisplayName);
        Assert.Equal(1, echo.GetTagItem("job.attempt"));
        Assert.Equal(ActivityKind.Consumer, echo.Kind);
        Assert.Equal(ActivityStatusCode.Error, Assert.Single(mine, a => (string?)a.GetTagItem("job.id") == thrown).Status);

        meterListener.RecordObservableInstruments();
        Assert.True(measurements.Count(m => m.Instrument == "jobs.scheduled") >= 3);
        Assert.Contains(measurements, m =>
            m.Instrument == "jobs.attempts" && (string?)m.Tags["job.outcome"] == "Succeeded" && (string?)m.Tags["job.kind"] == "echo"
        );
        Assert.Contains(measurements, m => m.Instrument == "jobs.attempts" && (string?)m.Tags["job.outcome"] == "FailedPermanently");
        Assert.Contains(measurements, m => m.Instrument == "jobs.attempts" && (string?)m.Tags["job.outcome"] == "Failed");
        Assert.True(measurements.Count(m => m.Instrument == "jobs.start_delay") >= 3);
        Assert.All(measurements.Where(m => m.Instrument == "jobs.start_delay"), m => Assert.True(m.Value >= 0));
    }
}
