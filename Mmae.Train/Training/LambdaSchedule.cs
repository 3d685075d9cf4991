using System.Globalization;
using Mmae.Train.Cli;

namespace Mmae.Train.Training;

/// <summary>
/// How the regulariser weight λ changes over epochs, from the text of <c>--lambda-schedule</c>:
/// <c>constant</c> (λ every epoch) or <c>step:FACTOR:PERIOD</c> (λ times FACTOR after every
/// PERIOD epochs: <c>step:0.1:20</c> gives λ for epochs 1-20, 0.1·λ for 21-40, 0.01·λ from 41).
/// </summary>
public sealed record LambdaSchedule
{
    private LambdaSchedule(double factor, int period)
    {
        Factor = factor;
        Period = period;
    }

    /// <summary>The option this schedule is read from, for messages.</summary>
    public const string Option = "--lambda-schedule";

    /// <summary>The forms the option accepts, for messages.</summary>
    public const string Forms = "constant, step:FACTOR:PERIOD (e.g. step:0.1:20 = ×0.1 every 20 epochs)";

    /// <summary>Multiplier applied once per period; 1 for constant.</summary>
    public double Factor { get; }

    /// <summary>Epochs per step, at least 1; 0 for constant.</summary>
    public int Period { get; }

    /// <summary>λ unchanged in every epoch.</summary>
    public static LambdaSchedule Constant { get; } = new(1.0, 0);

    /// <summary>Whether λ never changes.</summary>
    public bool IsConstant => Period == 0;

    /// <summary>The schedule as the option's text; parsing it gives this schedule back.</summary>
    public override string ToString() => IsConstant
        ? "constant"
        : string.Create(CultureInfo.InvariantCulture, $"step:{Factor:R}:{Period}");

    /// <summary>Parses the text of <c>--lambda-schedule</c>.</summary>
    /// <param name="text">The option's value.</param>
    /// <exception cref="UsageException">The text is not one of <see cref="Forms"/>, FACTOR is
    /// not a finite number above 0, or PERIOD is not a whole number of at least 1.</exception>
    public static LambdaSchedule Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "constant")
        {
            return Constant;
        }

        string[] parts = text.Split(':');
        if (parts[0] != "step")
        {
            throw new UsageException($"option {Option} {text}: unknown schedule '{parts[0]}'; supported: {Forms}");
        }

        if (parts.Length != 3)
        {
            throw new UsageException(
                $"option {Option} {text}: step needs a factor and a period, e.g. step:0.1:20");
        }

        if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double factor)
            || !double.IsFinite(factor)
            || factor <= 0)
        {
            throw new UsageException(
                $"option {Option} {text}: factor '{parts[1]}' must be a number above 0, e.g. 0.1");
        }

        if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int period) || period < 1)
        {
            throw new UsageException(
                $"option {Option} {text}: period '{parts[2]}' must be a whole number of epochs, at least 1");
        }

        return Step(factor, period);
    }

    /// <summary>λ times <paramref name="factor"/> after every <paramref name="period"/> epochs.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">factor is not a finite number above 0, or
    /// period is below 1.</exception>
    public static LambdaSchedule Step(double factor, int period)
    {
        if (!double.IsFinite(factor) || factor <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor,
                "LambdaSchedule.Step: the factor must be a finite number above 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        return new LambdaSchedule(factor, period);
    }

    /// <summary>The multiplier of λ in <paramref name="epoch"/> (1-based):
    /// Factor^⌊(epoch − 1)/Period⌋, or 1 when constant.</summary>
    /// <exception cref="ArgumentOutOfRangeException">epoch is below 1.</exception>
    public double Multiplier(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        return IsConstant ? 1.0 : Math.Pow(Factor, (epoch - 1) / Period);
    }

    /// <summary>λ in <paramref name="epoch"/> (1-based) when it starts at <paramref name="lambda"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">epoch is below 1.</exception>
    public double Lambda(double lambda, int epoch) => lambda * Multiplier(epoch);
}
