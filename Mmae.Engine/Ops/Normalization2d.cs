namespace Mmae.Engine;

// N = batch, C = channels, S = H·W; x, y: (N, C, H, W); gamma, beta, running statistics: (C).
public static partial class Ops
{
    /// <summary>
    /// Batch normalisation per channel of an image batch, statistics over N·H·W elements.
    /// Training: batch statistics, running statistics updated in place (unbiased variance).
    /// Evaluation: running statistics.
    /// </summary>
    /// <exception cref="ArgumentException">x is not (N, C, H, W) with C = gamma.Length, or
    /// training on a single element per channel.</exception>
    public static Tensor BatchNorm2d(
        Tensor x,
        Tensor gamma,
        Tensor beta,
        Tensor runningMean,
        Tensor runningVar,
        bool training,
        float momentum,
        float eps)
    {
        (int n, int c, int h, int w) = Image(nameof(BatchNorm2d), x);
        if (gamma.Length != c || beta.Length != c || runningMean.Length != c || runningVar.Length != c)
        {
            throw new ArgumentException(
                $"BatchNorm2d: expected input (batch, {gamma.Length}, height, width), got "
                + $"{ShapeUtil.Format(x.Shape)}.");
        }

        var be = x.Backend;
        int s = h * w;
        var y = Tensor.Empty(be, x.Shape);
        if (!training)
        {
            be.BatchNorm2dForwardEval(
                x.Data, n, c, s, gamma.Data, beta.Data, runningMean.Data, runningVar.Data, eps, y.Data);
            return Autograd.Record(y, "BatchNorm2dEval", [x, gamma, beta], dy =>
                throw new NotSupportedException(
                    "BatchNorm2d: backward in evaluation mode is not supported; call Train() first."));
        }

        if (n * s < 2)
        {
            throw new ArgumentException(
                "BatchNorm2d: training needs at least 2 values per channel to estimate a variance, "
                + $"got input {ShapeUtil.Format(x.Shape)}.");
        }

        var mean = Workspace.Rent(be, c);
        var invStd = Workspace.Rent(be, c);
        be.BatchNorm2dForwardTrain(
            x.Data, n, c, s, gamma.Data, beta.Data, runningMean.Data, runningVar.Data,
            momentum, eps, y.Data, mean, invStd);

        return Autograd.Record(y, nameof(BatchNorm2d), [x, gamma, beta], dy =>
        {
            var dx = Workspace.Rent(be, x.Length);
            // The kernel adds into dGamma and dBeta; unwanted ones go to zeroed scratch.
            var dGamma = gamma.RequiresGrad ? Autograd.GradTarget(gamma, out _) : Workspace.RentZeroed(be, c);
            var dBeta = beta.RequiresGrad ? Autograd.GradTarget(beta, out _) : Workspace.RentZeroed(be, c);
            be.BatchNorm2dBackward(x.Data, dy, n, c, s, gamma.Data, mean, invStd, dx, dGamma, dBeta);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }
}
