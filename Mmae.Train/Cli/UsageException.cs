namespace Mmae.Train.Cli;

/// <summary>A bad command line: the message is one line naming the option and the problem.</summary>
public sealed class UsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UsageException(string message, string? usage = null)
        : base(message) => Usage = usage;

    /// <summary>The usage text of the command, printed after the message.</summary>
    public string? Usage { get; }
}
