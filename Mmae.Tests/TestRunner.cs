using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Mmae.Tests;

/// <summary>
/// Runs this assembly's tests in-process through xunit's own discoverer and executor, so a
/// self-contained publish of Mmae.Tests runs them on a machine without the .NET SDK (the GPU
/// machine of tools/gpu/run.sh). <c>dotnet test</c> does not use it.
/// </summary>
/// <remarks>
/// usage: <c>Mmae.Tests [--class TEXT]... [--list]</c>. A test runs when its class's full name
/// contains one of the --class texts (case-sensitive), or always when none is given. Tests run
/// one at a time (a GPU is shared). Exits 0 when at least one test ran and none failed; the
/// last line reads <c>N passed, N failed, N skipped</c>.
/// </remarks>
public static class TestRunner
{
    /// <summary>Runs the selected tests; returns the exit code.</summary>
    public static int Main(string[] args)
    {
        var classes = new List<string>();
        bool list = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--class" when i + 1 < args.Length:
                    classes.Add(args[++i]);
                    break;
                case "--list":
                    list = true;
                    break;
                default:
                    Console.Error.WriteLine($"Mmae.Tests: unknown argument '{args[i]}'; "
                        + "usage: Mmae.Tests [--class TEXT]... [--list]");
                    return 2;
            }
        }

        Assembly assembly = typeof(TestRunner).Assembly;
        using var framework = new XunitTestFramework(new NullMessageSink());
        using var discoverer = framework.GetDiscoverer(new ReflectionAssemblyInfo(assembly));
        var discovery = new DiscoverySink();
        discoverer.Find(includeSourceInformation: false, discovery, new Options());
        discovery.Finished.WaitOne();
        List<ITestCase> cases = discovery.Cases
            .Where(c => classes.Count == 0 || classes.Any(c.TestMethod.TestClass.Class.Name.Contains))
            .ToList();
        if (list)
        {
            cases.ForEach(c => Console.WriteLine(c.DisplayName));
            return 0;
        }

        using var executor = framework.GetExecutor(assembly.GetName());
        var results = new ResultSink();
        var options = new Options();
        options.SetValue("xunit.execution.DisableParallelization", (bool?)true);
        executor.RunTests(cases, results, options);
        results.Finished.WaitOne();
        Console.WriteLine($"{results.Passed} passed, {results.Failed} failed, {results.Skipped} skipped");
        return results.Failed == 0 && results.Passed + results.Skipped > 0 ? 0 : 1;
    }

    /// <summary>Discovery and execution options: a plain name → value map; unset names read as
    /// their type's default, which xunit takes as "use the default".</summary>
    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> _values = [];

        public TValue GetValue<TValue>(string name) =>
            _values.TryGetValue(name, out object? v) && v is TValue t ? t : default!;

        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    private sealed class DiscoverySink : LongLivedMarshalByRefObject, IMessageSink
    {
        public List<ITestCase> Cases { get; } = [];

        public ManualResetEvent Finished { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage found)
            {
                Cases.Add(found.TestCase);
            }
            else if (message is IDiscoveryCompleteMessage)
            {
                Finished.Set();
            }

            return true;
        }
    }

    // One line per test as it finishes; a failure adds its message and stack trace.
    private sealed class ResultSink : LongLivedMarshalByRefObject, IMessageSink
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public int Passed { get; private set; }

        public int Failed { get; private set; }

        public int Skipped { get; private set; }

        public ManualResetEvent Finished { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            switch (message)
            {
                case ITestPassed passed:
                    Passed++;
                    Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] pass  {passed.Test.DisplayName} "
                        + $"({passed.ExecutionTime:F1} s)");
                    break;
                case ITestFailed failed:
                    Failed++;
                    Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] FAIL  {failed.Test.DisplayName}");
                    Console.WriteLine("      " + string.Join(Environment.NewLine + "      ", failed.Messages));
                    Console.WriteLine(string.Join(Environment.NewLine, failed.StackTraces));
                    break;
                case ITestSkipped skipped:
                    Skipped++;
                    Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] skip  {skipped.Test.DisplayName}: {skipped.Reason}");
                    break;
                case IErrorMessage error:
                    Failed++;
                    Console.WriteLine("ERROR " + string.Join(Environment.NewLine, error.Messages));
                    break;
                case ITestAssemblyFinished:
                    Finished.Set();
                    break;
            }

            return true;
        }
    }
}
