namespace Mmae.Train.Cli;

/// <summary>Entry point of the <c>mmae</c> command.</summary>
public static class CommandLine
{
    /// <summary>Runs a sub-command and returns the process exit code.</summary>
    public static int Run(string[] args) => 0;
}
