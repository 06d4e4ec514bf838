using System.Collections.Concurrent;
using Jobs.Actors.Handlers;
using Jobs.Client;
using Jobs.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Tests;

/// <summary>The test harness users get in Jobs.TestKit, used the way the README shows.</summary>
public sealed class JobsTestNodeTests
{
    public sealed record SendInvoice(string InvoiceId);

    /// <summary>Application code under test: schedules a reminder a day after an order.</summary>
    public sealed class Orders(IJobsClient jobs)
    {
        public Task PlaceAsync(string invoiceId) =>
            jobs.ScheduleAsync(
                ScheduleRequest.Create("send-invoice", new SendInvoice(invoiceId)) with
                {
                    Delay = TimeSpan.FromDays(1),
                    JobId = "invoice-" + invoiceId,
                }
            );
    }

    public sealed class Mailer
    {
        public ConcurrentQueue<string> Sent { get; } = new();

        public int FailuresLeft { get; set; }
    }

    public sealed class SendInvoiceHandler(Mailer mailer) : IJobHandler<SendInvoice>
    {
        public Task<JobOutcome> HandleAsync(SendInvoice payload, JobContext context)
        {
            if (mailer.FailuresLeft-- > 0)
            {
                throw new InvalidOperationException("mail server down");
            }

            mailer.Sent.Enqueue(payload.InvoiceId);
            return Task.FromResult(JobOutcome.Success());
        }
    }

    [Fact]
    public async Task ScheduledJob_IsVisible_RunsWhenTimeIsAdvanced_RetriesOnTheClock()
    {
        var mailer = new Mailer { FailuresLeft = 1 };
        await using var jobs = await JobsTestNode.StartAsync(
            j => j.AddHandler<SendInvoiceHandler, SendInvoice>("send-invoice"),
            s => s.AddSingleton(mailer)
        );
        await jobs.AssertNoneScheduledAsync();

        await new Orders(jobs.Client).PlaceAsync("inv-42");
        var job = await jobs.AssertScheduledAsync<SendInvoice>("send-invoice", p => p.InvoiceId == "inv-42", JobStatus.Scheduled);
        Assert.Equal(jobs.Clock.GetUtcNow() + TimeSpan.FromDays(1), job.DueAt);
        Assert.Equal(1, await jobs.TotalAsync());

        await jobs.AdvanceAsync(TimeSpan.FromHours(23));
        Assert.Empty(mailer.Sent);

        await jobs.AdvanceAsync(TimeSpan.FromHours(1)); // due: the first attempt fails, the retry waits 1 s
        Assert.Empty(mailer.Sent);
        Assert.Equal(JobStatus.Scheduled, (await jobs.Client.GetAsync("invoice-inv-42")).Status);

        await jobs.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(["inv-42"], mailer.Sent);
        await jobs.AssertScheduledAsync<SendInvoice>("send-invoice", status: JobStatus.Succeeded);
        Assert.Equal(1, jobs.Statistics.Retried);
    }

    [Fact]
    public async Task FailedAssertions_SayWhatWasThere()
    {
        await using var jobs = await JobsTestNode.StartAsync(
            j => j.AddHandler<SendInvoiceHandler, SendInvoice>("send-invoice"),
            s => s.AddSingleton(new Mailer())
        );
        await new Orders(jobs.Client).PlaceAsync("inv-1");
        var missing = await Assert.ThrowsAsync<TestKitAssertionException>(() =>
            jobs.AssertScheduledAsync<SendInvoice>("send-invoice", p => p.InvoiceId == "inv-2")
        );
        Assert.Contains("inv-1", missing.Message, StringComparison.Ordinal);
        var some = await Assert.ThrowsAsync<TestKitAssertionException>(() => jobs.AssertNoneScheduledAsync("send-invoice"));
        Assert.Contains("invoice-inv-1", some.Message, StringComparison.Ordinal);
    }
}
