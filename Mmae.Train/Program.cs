namespace Mmae.Train;

/// <summary>Command-line entry point of the <c>mmae</c> tool.</summary>
internal static class Program
{
    // Limitation: placeholder so the solution skeleton compiles (an Exe needs a Main); the
    // training CLI replaces this file. Until then the tool prints that and exits non-zero.
    private static int Main()
    {
        Console.Error.WriteLine("mmae: the training CLI is not part of this build yet.");
        return 1;
    }
}
