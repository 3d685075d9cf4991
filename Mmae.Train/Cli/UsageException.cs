namespace Mmae.Train.Cli;

/// <summary>A bad command line: the message is one line naming the option and the problem.</summary>
public sealed class UsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UsageException(string message, string? usage = null)
        : base(message) => Usage = usage;

    /// <summary>The usage text of the command, printed after the message.</summary>
    public string? Usage { get; }

    /// <summary>
    /// An exception's message for a user: an <see cref="ArgumentException"/>'s text without the
    /// " (Parameter 'name')" that .NET appends, since that names our code, not their option.
    /// </summary>
    public static string Reason(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex is ArgumentException { ParamName: { } name }
            ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
            : ex.Message;
    }
}
