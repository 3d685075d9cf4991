namespace Mmae.Train.Data;

/// <summary>
/// A data file exists and could be read, but its contents do not have the expected layout
/// (wrong magic number, header sizes that disagree with the file length, corrupt compression).
/// </summary>
/// <remarks>
/// The message is always one line of the form <c>path: problem</c>, so a command-line tool can
/// print it as it is.
/// </remarks>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    /// <param name="path">The file whose contents are wrong, as the caller named it.</param>
    /// <param name="problem">What was expected and what was found, without a trailing
    /// period.</param>
    public DataFormatException(string path, string problem)
        : base(FormatMessage(path, problem))
    {
        FilePath = path;
    }

    /// <summary>Creates the exception for <paramref name="path"/> with the error that caused
    /// it.</summary>
    /// <param name="path">The file whose contents are wrong, as the caller named it.</param>
    /// <param name="problem">What was expected and what was found, without a trailing
    /// period.</param>
    /// <param name="inner">The lower-level error, for example a decompression failure.</param>
    public DataFormatException(string path, string problem, Exception inner)
        : base(FormatMessage(path, problem), inner)
    {
        FilePath = path;
    }

    /// <summary>The file the message is about.</summary>
    public string FilePath { get; }

    private static string FormatMessage(string path, string problem)
    {
        // One line, whatever the lower layers put in the problem text.
        string oneLine = problem.ReplaceLineEndings(" ");
        return $"{path}: {oneLine}";
    }
}
