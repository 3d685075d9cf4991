using Xunit;
using Xunit.Sdk;

namespace Mmae.Tests.Kernels;

/// <summary>
/// <see cref="HarnessRunner"/> runs the device harnesses only on machines with a GPU; these
/// pin, on any machine, that it runs every fact and every row and reports each failure.
/// </summary>
public class HarnessRunnerTests
{
    [Fact]
    public void RunEveryCase_AllPass_RunsFactsAndEveryTheoryRow()
    {
        SampleBase.Calls.Clear();

        int cases = HarnessRunner.RunEveryCase(() => new Sample(failAt: -1));

        // One fact, two inline rows, three rows from the test class's hiding data method.
        Assert.Equal(6, cases);
        Assert.Equal(
            ["Data 10", "Data 20", "Data 30", "Fact", "Inline 1", "Inline 2"],
            SampleBase.Calls.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RunEveryCase_SomeFail_ListsEachFailingCase()
    {
        var error = Assert.ThrowsAny<XunitException>(
            () => HarnessRunner.RunEveryCase(() => new Sample(failAt: 20)));

        Assert.Contains("1 of 6 cases failed", error.Message);
        Assert.Contains("FromData(20): value 20 rejected", error.Message);
    }

    // The samples are private on purpose: xunit must not run them as tests of their own, only
    // HarnessRunner may. The analyzer rules below assume every attributed class is run by xunit.
#pragma warning disable xUnit1000, xUnit1041
    // Tests declared on a base class, data hidden by the subclass: the harnesses' shape.
    private class SampleBase(int failAt) : IDisposable
    {
        public static readonly List<string> Calls = [];

        public static TheoryData<int> Values() => [1000];

        [Fact]
        public void Plain() => Calls.Add("Fact");

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        public void Inline(int value) => Calls.Add($"Inline {value}");

        [Theory]
        [TestClassData(nameof(Values))]
        public void FromData(int value)
        {
            Assert.True(value != failAt, $"value {value} rejected");
            Calls.Add($"Data {value}");
        }

        public void NotATest() => Calls.Add("NotATest");

        public void Dispose() => GC.SuppressFinalize(this);
    }

    private sealed class Sample(int failAt) : SampleBase(failAt)
    {
        public static new TheoryData<int> Values() => [10, 20, 30];
    }
#pragma warning restore xUnit1000, xUnit1041
}
