namespace Jobs.Runtime.Timers;

/// <summary>
/// An actor's named timers. Starting a timer with a key already in use replaces it; a cancelled or replaced
/// timer's message is never delivered, even if it was already queued. All timers stop on restart and stop.
/// </summary>
public interface ITimerScheduler
{
    /// <summary>Sends <paramref name="message"/> to the actor once, after <paramref name="delay"/>.</summary>
    void StartSingleTimer(object key, object message, TimeSpan delay);

    /// <summary>Sends <paramref name="message"/> every <paramref name="interval"/>, the first after <paramref name="initialDelay"/>.</summary>
    void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval);

    /// <summary>Sends <paramref name="message"/> every <paramref name="interval"/>.</summary>
    void StartPeriodicTimer(object key, object message, TimeSpan interval);

    /// <summary>True while the timer with this key is pending (a single timer until it has been delivered).</summary>
    bool IsTimerActive(object key);

    /// <summary>Cancels one timer; unknown keys are ignored.</summary>
    void Cancel(object key);

    /// <summary>Cancels every timer.</summary>
    void CancelAll();

    /// <summary>The keys of the active timers.</summary>
    IReadOnlyCollection<object> ActiveTimers { get; }
}
