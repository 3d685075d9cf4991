using Mmae.Train.Cli;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

/// <summary>Parsing of --lambda-schedule and the λ it gives per epoch.</summary>
public class LambdaScheduleTests
{
    [Fact]
    public void Parse_Constant_SameLambdaEveryEpoch()
    {
        LambdaSchedule s = LambdaSchedule.Parse("constant");

        Assert.True(s.IsConstant);
        foreach (int epoch in new[] { 1, 2, 20, 21, 1000 })
        {
            Assert.Equal(0.7, s.Lambda(0.7, epoch));
        }
    }

    [Theory]
    [InlineData("step:0.1:20", 1, 1.0)]
    [InlineData("step:0.1:20", 20, 1.0)]
    [InlineData("step:0.1:20", 21, 0.1)]
    [InlineData("step:0.1:20", 40, 0.1)]
    [InlineData("step:0.1:20", 41, 0.01)]
    [InlineData("step:0.5:1", 1, 1.0)]
    [InlineData("step:0.5:1", 2, 0.5)]
    [InlineData("step:0.5:1", 4, 0.125)]
    [InlineData("step:2:3", 7, 4.0)]
    [InlineData("step:1e-1:10", 11, 0.1)]
    public void Parse_Step_MultipliesOncePerPeriod(string text, int epoch, double multiplier)
    {
        LambdaSchedule s = LambdaSchedule.Parse(text);

        Assert.Equal(multiplier, s.Multiplier(epoch), 1e-15);
        Assert.Equal(3.0 * multiplier, s.Lambda(3.0, epoch), 1e-14);
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("step:0.1:20")]
    [InlineData("step:0.25:3")]
    public void ToString_ParsesBackToSameSchedule(string text)
    {
        LambdaSchedule s = LambdaSchedule.Parse(text);

        Assert.Equal(text, s.ToString());
        Assert.Equal(s, LambdaSchedule.Parse(s.ToString()));
    }

    [Theory]
    [InlineData("", "unknown schedule")]
    [InlineData("linear", "unknown schedule 'linear'")]
    [InlineData("Constant", "unknown schedule")]
    [InlineData("step", "needs a factor and a period")]
    [InlineData("step:0.1", "needs a factor and a period")]
    [InlineData("step:0.1:20:5", "needs a factor and a period")]
    [InlineData("step:abc:20", "factor 'abc'")]
    [InlineData("step:0:20", "factor '0'")]
    [InlineData("step:-0.5:20", "factor '-0.5'")]
    [InlineData("step:NaN:20", "factor 'NaN'")]
    [InlineData("step:Infinity:20", "factor 'Infinity'")]
    [InlineData("step:0.1:0", "period '0'")]
    [InlineData("step:0.1:-3", "period '-3'")]
    [InlineData("step:0.1:2.5", "period '2.5'")]
    [InlineData("step:0.1:", "period ''")]
    public void Parse_Malformed_ThrowsNamingOption(string text, string reason)
    {
        var ex = Assert.Throws<UsageException>(() => LambdaSchedule.Parse(text));

        Assert.StartsWith($"option --lambda-schedule {text}:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Multiplier_EpochZero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LambdaSchedule.Parse("step:0.1:20").Multiplier(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LambdaSchedule.Constant.Multiplier(0));
    }

    [Theory]
    [InlineData(0.0, 5)]
    [InlineData(double.NaN, 5)]
    [InlineData(0.5, 0)]
    public void Step_BadArguments_Throw(double factor, int period)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LambdaSchedule.Step(factor, period));
    }
}
