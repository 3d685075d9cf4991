using System.Reflection;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// Runs every <c>[Fact]</c> and every data row of every <c>[Theory]</c> of a harness class in
/// one go, each on a fresh instance, and fails once, listing every case that failed: for a
/// harness that must run on a device only some machines have.
/// </summary>
internal static class HarnessRunner
{
    /// <summary>Runs every case; returns how many ran.</summary>
    /// <exception cref="Xunit.Sdk.XunitException">A case failed (all failures are listed), or
    /// the class has no cases.</exception>
    public static int RunEveryCase<THarness>(Func<THarness> create)
        where THarness : IDisposable
    {
        var failures = new List<string>();
        int cases = 0;
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        foreach (MethodInfo method in typeof(THarness).GetMethods(flags))
        {
            foreach (object?[] row in Rows(method))
            {
                cases++;
                using THarness harness = create();
                try
                {
                    method.Invoke(harness, row);
                }
                catch (TargetInvocationException ex)
                {
                    string message = ex.InnerException?.Message ?? ex.Message;
                    failures.Add($"{method.Name}({string.Join(", ", row)}): "
                        + message.Split('\n')[0]);
                }
            }
        }

        Assert.True(cases > 0, $"{typeof(THarness).Name}: no test cases found");
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {cases} cases failed:\n" + string.Join("\n", failures));
        return cases;
    }

    // A theory's rows from its data attributes; a fact's single empty row; nothing otherwise.
    private static IEnumerable<object?[]> Rows(MethodInfo method)
    {
        if (method.GetCustomAttribute<TheoryAttribute>() is not null)
        {
            return method.GetCustomAttributes<Xunit.Sdk.DataAttribute>()
                .SelectMany(data => data.GetData(method));
        }

        return method.GetCustomAttribute<FactAttribute>() is not null ? [[]] : [];
    }
}
