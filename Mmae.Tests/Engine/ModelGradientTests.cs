using Mmae.Engine;
using Mmae.Engine.Modules;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>The whole DeepAE + L_mm loss differentiated end to end, in float64.</summary>
public class ModelGradientTests
{
    [Fact]
    public void DeepAutoencoder_TotalLoss_ParameterGradientsMatchFiniteDifferences()
    {
        var be = GradientCheck.Backend;
        var rng = new Rng(21);
        int p = 5, d = 6, m = 2, l = 3;
        var model = new DeepAutoencoder(be, d, m, new Rng(22), [5, 4]);
        var x = Tensor.FromArray(be, GradientCheck.Random(rng, p * d, 0.5), p, d);
        var e = Tensor.FromArray(be, GradientCheck.Random(rng, p * l), p, l);
        const float Lambda = 0.7f;
        double Loss()
        {
            Tensor z = model.Encoder.Forward(x);
            return (Losses.Mse(model.Decoder.Forward(z), x) + Lambda * Losses.ManifoldMatch(z, e)).Item();
        }

        Tensor zz = model.Encoder.Forward(x);
        (Losses.Mse(model.Decoder.Forward(zz), x) + Lambda * Losses.ManifoldMatch(zz, e)).Backward();

        const double H = 1e-5, Rel = 1e-5, Abs = 1e-8;
        foreach ((string name, Tensor param) in model.NamedParameters())
        {
            double[] analytic = param.GradToDoubleArray()!;
            double[] values = param.ToDoubleArray();
            for (int i = 0; i < values.Length; i++)
            {
                double keep = values[i];
                values[i] = keep + H;
                Set(param, values);
                double up = Loss();
                values[i] = keep - H;
                Set(param, values);
                double down = Loss();
                values[i] = keep;
                Set(param, values);
                double numeric = (up - down) / (2 * H);
                double err = Math.Abs(numeric - analytic[i]);
                Assert.True(err <= Abs + Rel * Math.Abs(numeric),
                    $"{name}[{i}]: finite difference {numeric:R}, autograd {analytic[i]:R}");
            }
        }
    }

    private static void Set(Tensor t, double[] values) =>
        t.Backend.Copy(t.Backend.Upload(values), t.Data);
}
