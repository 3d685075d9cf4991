namespace Mmae.Bench;

/// <summary>Entry point of the benchmark runner.</summary>
internal static class Program
{
    // Limitation: placeholder so the solution skeleton compiles (an Exe needs a Main); the
    // BenchmarkDotNet switcher replaces this file once benchmark classes exist.
    private static int Main()
    {
        Console.Error.WriteLine("Mmae.Bench: no benchmarks are part of this build yet.");
        return 1;
    }
}
