namespace Mmae.Train.Training;

/// <summary>
/// A one-line progress bar with the running loss, redrawn in place on an interactive
/// terminal and silent when stderr is redirected (logs then get one line per epoch).
/// </summary>
public sealed class ProgressBar
{
    private const int Width = 24;
    private readonly TextWriter _out;
    private readonly bool _enabled;
    private DateTime _lastDraw = DateTime.MinValue;

    /// <summary>Draws on <paramref name="output"/> when it is an interactive terminal.</summary>
    public ProgressBar(TextWriter output, bool enabled)
    {
        _out = output;
        _enabled = enabled;
    }

    /// <summary>Redraws at most ten times a second, and always on the last step.</summary>
    public void Update(int epoch, int epochs, int step, int steps, double runningLoss, double msPerStep)
    {
        if (!_enabled)
        {
            return;
        }

        DateTime now = DateTime.UtcNow;
        if (step != steps && (now - _lastDraw).TotalMilliseconds < 100)
        {
            return;
        }

        _lastDraw = now;
        int filled = steps == 0 ? Width : step * Width / steps;
        string bar = new string('#', filled) + new string('.', Width - filled);
        _out.Write(FormattableString.Invariant(
            $"\repoch {epoch,3}/{epochs} [{bar}] {step,4}/{steps} | loss {runningLoss:F4} | ")
            + FormattableString.Invariant($"{msPerStep,6:F1} ms/step "));
        _out.Flush();
    }

    /// <summary>Clears the bar so the next log line starts on a clean row.</summary>
    public void Clear()
    {
        if (_enabled)
        {
            _out.Write("\r" + new string(' ', 90) + "\r");
            _out.Flush();
        }
    }
}
