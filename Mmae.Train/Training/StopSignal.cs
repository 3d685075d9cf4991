using System.Runtime.InteropServices;

namespace Mmae.Train.Training;

/// <summary>
/// A request to stop training at the next step boundary: set by Ctrl-C (SIGINT) or SIGTERM,
/// read by the trainer between steps, which then saves a checkpoint and returns.
/// </summary>
/// <remarks>
/// The first Ctrl-C is taken over (the process keeps running until the step is done and
/// saved); a second one is left to the runtime and ends the process at once. The checkpoint
/// on disk is whole either way, because every save replaces it in one rename.
/// </remarks>
public sealed class StopSignal : IDisposable
{
    /// <summary>Exit code of a run stopped by a signal after saving (128 + SIGINT, as shells
    /// report an interrupted command).</summary>
    public const int InterruptedExitCode = 130;

    private readonly TextWriter? _log;
    private readonly PosixSignalRegistration? _sigterm;
    private volatile bool _requested;
    private bool _listening;

    /// <summary>A signal that only <see cref="Request"/> sets.</summary>
    public StopSignal()
    {
    }

    private StopSignal(TextWriter log)
    {
        _log = log;
        _listening = true;
        Console.CancelKeyPress += OnCancelKeyPress;
        if (!OperatingSystem.IsWindows())
        {
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                Request("SIGTERM");
            });
        }
    }

    /// <summary>Whether a stop was asked for.</summary>
    public bool IsRequested => _requested;

    /// <summary>Listens to Ctrl-C and SIGTERM until disposed, noting each on
    /// <paramref name="log"/>.</summary>
    public static StopSignal ListenToConsole(TextWriter log) => new(log);

    /// <summary>Asks the trainer to stop after the current step.</summary>
    public void Request(string why = "request")
    {
        if (!_requested)
        {
            _requested = true;
            // Training stops after its step; once the last epoch is done the run finishes
            // (its evaluation is short) and is written as usual.
            _log?.WriteLine($"{why}: stopping after this step and saving a checkpoint, or finishing the run if "
                + "training is over (press Ctrl-C again to quit at once)");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_listening)
        {
            _listening = false;
            Console.CancelKeyPress -= OnCancelKeyPress;
            _sigterm?.Dispose();
        }
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        // The second press is not cancelled: the runtime ends the process.
        e.Cancel = !_requested;
        Request("Ctrl-C");
    }
}
