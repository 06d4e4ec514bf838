using System.Diagnostics;
using Jobs.Runtime.Actors;

namespace Jobs.TestKit;

/// <summary>
/// A base class for actor tests: one fresh <see cref="ActorSystem"/> per test (terminated on dispose), probes,
/// and waiting helpers that honour the time factor. Works with xunit (IAsyncDisposable) and other frameworks.
/// </summary>
public abstract class ActorTestKit : IAsyncDisposable
{
    private readonly Lazy<TestProbe> _testActor;

    /// <summary>Creates the test's system.</summary>
    /// <param name="settings">Runtime settings (for example a <see cref="ManualTimeProvider"/>); null for defaults.</param>
    /// <param name="testKitSettings">Test-kit timing; null reads the environment.</param>
    /// <param name="systemName">The system's name.</param>
    protected ActorTestKit(ActorSystemSettings? settings = null, TestKitSettings? testKitSettings = null, string systemName = "test")
    {
        TestKitSettings = testKitSettings ?? TestKitSettings.FromEnvironment();
        Sys = ActorSystem.Create(systemName, settings);
        // Thread-safe: actor factories often read TestActor from an actor's thread while the test reads it too.
        _testActor = new Lazy<TestProbe>(() => CreateTestProbe(), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The system under test.</summary>
    public ActorSystem Sys { get; }

    /// <summary>The timing settings in force.</summary>
    public TestKitSettings TestKitSettings { get; }

    /// <summary>A default probe, created on first use.</summary>
    public TestProbe TestActor => _testActor.Value;

    /// <summary>Creates a probe in <see cref="Sys"/>.</summary>
    public TestProbe CreateTestProbe(string? name = null) => new(Sys, TestKitSettings, name);

    /// <summary>Retries <paramref name="assertion"/> until it stops throwing or <paramref name="duration"/> passes (then rethrows the last failure).</summary>
    public async Task AwaitAssertAsync(Action assertion, TimeSpan? duration = null, TimeSpan? interval = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        var max = TestKitSettings.Dilated(duration ?? TestKitSettings.DefaultTimeout);
        var pause = interval ?? TimeSpan.FromMilliseconds(10);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                assertion();
                return;
            }
            catch (Exception ex) when (clock.Elapsed < max)
            {
                _ = ex;
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits until <paramref name="condition"/> is true; fails naming <paramref name="message"/> after <paramref name="duration"/>.</summary>
    public async Task AwaitConditionAsync(Func<bool> condition, TimeSpan? duration = null, string? message = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var max = TestKitSettings.Dilated(duration ?? TestKitSettings.DefaultTimeout);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > max)
            {
                throw new TestKitAssertionException($"Condition not met within {max}{(message is null ? string.Empty : ": " + message)}");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="block"/> and asserts it took between <paramref name="min"/> and <paramref name="max"/> (max dilated).</summary>
    public async Task WithinAsync(TimeSpan min, TimeSpan max, Func<Task> block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var dilatedMax = TestKitSettings.Dilated(max);
        var clock = Stopwatch.StartNew();
        await block().ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        if (elapsed < min)
        {
            throw new TestKitAssertionException($"Block finished in {elapsed}, sooner than the minimum {min}");
        }

        if (elapsed > dilatedMax)
        {
            throw new TestKitAssertionException($"Block took {elapsed}, longer than the maximum {dilatedMax}");
        }
    }

    /// <summary>Terminates the test's system.</summary>
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Override to release more resources; call the base.</summary>
    protected virtual async ValueTask DisposeAsyncCore() => await Sys.TerminateAsync("test finished").ConfigureAwait(false);
}
