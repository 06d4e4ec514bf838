using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Jobs.Client;
using Microsoft.Playwright;

namespace Jobs.Host.Tests;

/// <summary>
/// The dashboard driven in headless Chromium (Debian's chromium, installed by .ci/run) through Playwright:
/// the overview goes live, a job opens from the list, a running job is cancelled from its page, a script in a
/// payload stays text, and a remote browser is refused. Screenshots of the main pages are written to
/// docs/screenshots when JOBS_UPDATE_SCREENSHOTS=1.
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private TestHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartAsync(host: "0.0.0.0", extraConfig: "jobs.http.auth.allow-unauthenticated-remote = on");
        var chromium = new[] { Environment.GetEnvironmentVariable("JOBS_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(
            File.Exists
        )
            ?? throw new InvalidOperationException(
                "Chromium is not installed (apt-get install chromium; .ci/run does this) and JOBS_CHROMIUM names no browser"
            );
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(
            new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
            }
        );
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _host.DisposeAsync();
    }

    private string Local(string path) => $"http://127.0.0.1:{_host.Address.Port}{path}";

    private static async Task ShotAsync(IPage page, string name)
    {
        var directory =
            Environment.GetEnvironmentVariable("JOBS_UPDATE_SCREENSHOTS") == "1"
                ? Path.Combine(RepositoryPaths.Root(), "docs", "screenshots")
                : Path.Combine(Path.GetTempPath(), "jobs-screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 1000, "the screenshot is empty");
    }

    private async Task<JobInfo> WaitAsync(string id, JobStatus status)
    {
        for (var i = 0; i < 200; i++)
        {
            var info = await _host.Client.GetAsync(id);
            if (info.Status == status)
            {
                return info;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{id} did not become {status}");
    }

    [Fact]
    public async Task Overview_GoesLive_AJobOpensFromTheList_ARunningJobIsCancelledFromItsPage()
    {
        await _host.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("hello")) with { JobId = "browser-echo" });
        await _host.Client.ScheduleAsync(
            ScheduleRequest.Create("fail-n-times", new FailNTimesJob(5)) with
            {
                JobId = "browser-fails",
                MaxAttempts = 2,
            }
        );
        await _host.Client.ScheduleAsync(
            ScheduleRequest.Create("echo", new EchoJob("tomorrow")) with
            {
                JobId = "browser-later",
                Delay = TimeSpan.FromDays(1),
                Priority = 3,
            }
        );
        await _host.Client.SetRecurringAsync(
            new RecurringScheduleRequest
            {
                Name = "nightly-report",
                Kind = "echo",
                Cron = "0 3 * * *",
                TimeZone = "Europe/London",
                Payload = System.Text.Json.JsonSerializer.SerializeToElement(new EchoJob("report")),
            }
        );
        await _host.Client.ScheduleAsync(ScheduleRequest.Create("sleep", new SleepJob(120_000)) with { JobId = "browser-sleeper" });
        await WaitAsync("browser-echo", JobStatus.Succeeded);
        await WaitAsync("browser-sleeper", JobStatus.Running);
        await WaitAsync("browser-fails", JobStatus.Failed);

        var page = await _browser.NewPageAsync();
        var response = await page.GotoAsync(Local("/dashboard"));
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("#live")).ToContainTextAsync("updated", new LocatorAssertionsToContainTextOptions { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#count-running")).ToHaveTextAsync("1");
        await ShotAsync(page, "overview");

        await page.GotoAsync(Local("/dashboard/jobs"));
        await ShotAsync(page, "jobs");
        await page.ClickAsync("a[href='/dashboard/jobs/browser-echo']");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Succeeded");
        await Assertions.Expect(page.Locator("#payload")).ToContainTextAsync("hello");

        await page.GotoAsync(Local("/dashboard/jobs/browser-fails"));
        await ShotAsync(page, "job");
        await page.GotoAsync(Local("/dashboard/recurring"));
        await ShotAsync(page, "recurring");

        await page.GotoAsync(Local("/dashboard/jobs/browser-sleeper"));
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Running");
        await page.ClickAsync("#cancel");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Cancelled");
        Assert.Equal(JobStatus.Cancelled, (await _host.Client.GetAsync("browser-sleeper")).Status);
    }

    [Fact]
    public async Task BulkSelection_CancelsTheSelectedJobs_AndRecurringCanBeTriggeredAndDeleted()
    {
        foreach (var id in new[] { "pick-1", "pick-2", "keep" })
        {
            await _host.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob(id)) with { JobId = id, Delay = TimeSpan.FromHours(2) });
        }

        await _host.Client.SetRecurringAsync(
            new RecurringScheduleRequest
            {
                Name = "browser-hourly",
                Kind = "echo",
                Cron = "0 * * * *",
                Payload = System.Text.Json.JsonSerializer.SerializeToElement(new EchoJob("tick")),
            }
        );
        var page = await _browser.NewPageAsync();
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await page.SetViewportSizeAsync(1280, 900);
        await page.GotoAsync(Local("/dashboard/jobs?status=scheduled"));
        await page.CheckAsync("input[name=id][value=pick-1]");
        await page.CheckAsync("input[name=id][value=pick-2]");
        await page.ClickAsync("#bulk-cancel");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("2 cancelled");
        Assert.Equal(JobStatus.Cancelled, (await _host.Client.GetAsync("pick-2")).Status);
        Assert.Equal(JobStatus.Scheduled, (await _host.Client.GetAsync("keep")).Status);

        // Select all, then delete: every job on the page goes (after the confirmation).
        await page.GotoAsync(Local("/dashboard/jobs?status=cancelled"));
        await page.CheckAsync("#select-all");
        await page.ClickAsync("#bulk-delete");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("2 deleted");
        await Assert.ThrowsAsync<JobNotFoundException>(() => _host.Client.GetAsync("pick-1"));

        await page.GotoAsync(Local("/dashboard/recurring"));
        await page.ClickAsync("text=trigger now");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("Triggered browser-hourly");
        await page.ClickAsync("button.danger");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("Deleted browser-hourly");
        await Assert.ThrowsAsync<RecurringNotFoundException>(() => _host.Client.GetRecurringAsync("browser-hourly"));

        // A narrow window: the tables scroll inside their frame instead of widening the page.
        await page.SetViewportSizeAsync(390, 800);
        await page.GotoAsync(Local("/dashboard/jobs"));
        var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 400, $"the page is {width} px wide on a 390 px window");
        await ShotAsync(page, "jobs-narrow");
    }

    [Fact]
    public async Task AScriptInAPayload_IsShownAsText_AndNeverRuns()
    {
        await _host.Client.ScheduleAsync(
            new ScheduleRequest
            {
                Kind = "http-get",
                JobId = "browser-xss",
                Payload = System.Text.Json.JsonSerializer.SerializeToElement(
                    new { url = "<script>alert('xss')</script><img src=x onerror=alert(2)>" }
                ),
            }
        );
        await WaitAsync("browser-xss", JobStatus.Failed);
        var page = await _browser.NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await page.GotoAsync(Local("/dashboard/jobs/browser-xss"));
        await Assertions.Expect(page.Locator("#payload")).ToContainTextAsync("<script>alert('xss')</script>");
        await page.GotoAsync(Local("/dashboard/jobs?status=failed"));
        await page.WaitForTimeoutAsync(300);
        Assert.Equal(0, dialogs);
        Assert.Equal(0, await page.Locator("img[src=x]").CountAsync());
    }

    [Fact]
    public async Task ARemoteBrowser_IsRefusedByDefault()
    {
        var address = NetworkInterface
            .GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?.ToString();
        if (address is null)
        {
            using var ip = System.Diagnostics.Process.Start("ip", "addr add 198.18.0.1/32 dev lo")!;
            await ip.WaitForExitAsync();
            address = "198.18.0.1";
        }

        var page = await _browser.NewPageAsync();
        var response = await page.GotoAsync($"http://{address}:{_host.Address.Port}/dashboard");
        // By default the node answers only loopback names without keys: the address's name is refused first.
        Assert.Equal(421, response!.Status);
        Assert.Contains("jobs.http.allowed-hosts", await page.ContentAsync(), StringComparison.Ordinal);
    }
}
