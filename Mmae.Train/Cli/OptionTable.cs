using System.Globalization;

namespace Mmae.Train.Cli;

/// <summary>
/// A small declarative option parser: every option has a name, a default shown in the help,
/// a description, and a setter that validates its value. Unknown options and bad values
/// raise <see cref="UsageException"/> naming the option.
/// </summary>
public sealed class OptionTable
{
    private readonly List<Option> _options = [];
    private readonly string _command;
    private readonly string _summary;

    /// <summary>A table for one sub-command.</summary>
    public OptionTable(string command, string summary)
    {
        _command = command;
        _summary = summary;
    }

    /// <summary>Positional arguments left after the options.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>Names (without dashes) of the options the command line gave.</summary>
    public HashSet<string> Given { get; } = [];

    /// <summary>Adds an option that takes a value.</summary>
    public OptionTable Add(string name, string metavar, string defaultText, string help, Action<string> set)
    {
        _options.Add(new Option(name, metavar, defaultText, help, set, IsFlag: false));
        return this;
    }

    /// <summary>Adds a flag without a value.</summary>
    public OptionTable Flag(string name, string help, Action set)
    {
        _options.Add(new Option(name, "", "off", help, _ => set(), IsFlag: true));
        return this;
    }

    /// <summary>The help text: usage line, summary and one line per option with its default.</summary>
    public string Usage()
    {
        var lines = new List<string>
        {
            $"usage: mmae {_command} [options]",
            "",
            _summary,
            "",
            "options:",
        };
        foreach (Option o in _options)
        {
            string left = o.IsFlag ? $"  --{o.Name}" : $"  --{o.Name} {o.Metavar}";
            string dflt = o.IsFlag ? "" : $" (default: {o.DefaultText})";
            lines.Add($"{left,-28} {o.Help}{dflt}");
        }

        lines.Add($"  {"--help",-26} show this help");
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Parses the arguments; returns false when --help was asked.</summary>
    /// <exception cref="UsageException">An option is unknown, lacks its value, or is invalid.</exception>
    public bool Parse(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "--help" or "-h")
            {
                return false;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                Positionals.Add(arg);
                continue;
            }

            string name = arg[2..];
            string? inline = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }

            Option? option = _options.Find(o => o.Name == name)
                ?? throw new UsageException($"unknown option --{name} for 'mmae {_command}'", Usage());
            Given.Add(name);
            if (option.IsFlag)
            {
                option.Set("");
                continue;
            }

            string? value = inline;
            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new UsageException($"option --{name} needs a value ({option.Metavar})", Usage());
                }

                value = args[++i];
            }

            try
            {
                option.Set(value);
            }
            catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
            {
                throw new UsageException($"option --{name} {value}: {UsageException.Reason(ex)}", Usage());
            }
        }

        return true;
    }

    /// <summary>Parses an int in [min, max] or throws an ArgumentException saying the range.</summary>
    public static int Int(string value, int min, int max = int.MaxValue)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
        {
            throw new ArgumentException("expected a whole number");
        }

        if (v < min || v > max)
        {
            throw new ArgumentException(max == int.MaxValue
                ? $"must be at least {min}"
                : $"must be between {min} and {max}");
        }

        return v;
    }

    /// <summary>Parses a finite float at least <paramref name="min"/>.</summary>
    public static float Float(string value, float min, bool exclusive = false)
    {
        double v = Double(value, min, exclusive);
        return float.IsFinite((float)v) ? (float)v : throw new ArgumentException("expected a finite number");
    }

    /// <summary>Parses a finite double at least <paramref name="min"/> (above it when
    /// <paramref name="exclusive"/>).</summary>
    public static double Double(string value, double min, bool exclusive = false)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            || !double.IsFinite(v))
        {
            throw new ArgumentException("expected a finite number");
        }

        if (v < min || (exclusive && v == min))
        {
            throw new ArgumentException(exclusive ? $"must be greater than {min}" : $"must be at least {min}");
        }

        return v;
    }

    private sealed record Option(
        string Name,
        string Metavar,
        string DefaultText,
        string Help,
        Action<string> Set,
        bool IsFlag);
}
