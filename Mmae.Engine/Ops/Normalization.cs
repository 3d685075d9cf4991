namespace Mmae.Engine;

// N = batch, C = features; x, y: (N, C); gamma, beta, running statistics: (C).
public static partial class Ops
{
    /// <summary>
    /// Batch normalisation over the rows of x. Training: batch statistics, running statistics
    /// updated in place. Evaluation: running statistics.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, or training with fewer than 2 rows.</exception>
    public static Tensor BatchNorm1d(
        Tensor x,
        Tensor gamma,
        Tensor beta,
        Tensor runningMean,
        Tensor runningVar,
        bool training,
        float momentum,
        float eps)
    {
        Check.Matrix(nameof(BatchNorm1d), x, "input");
        int n = x.Rows, c = x.Cols;
        if (gamma.Length != c || beta.Length != c || runningMean.Length != c || runningVar.Length != c)
        {
            throw new ArgumentException(
                $"BatchNorm1d: expected input (batch, {gamma.Length}), got {ShapeUtil.Format(x.Shape)}.");
        }

        var be = x.Backend;
        var y = Tensor.Empty(be, n, c);
        if (!training)
        {
            be.BatchNormForwardEval(
                x.Data, n, c, gamma.Data, beta.Data, runningMean.Data, runningVar.Data, eps, y.Data);
            return Autograd.Record(y, "BatchNorm1dEval", [x, gamma, beta], dy =>
                throw new NotSupportedException(
                    "BatchNorm1d: backward in evaluation mode is not supported; call Train() first."));
        }

        if (n < 2)
        {
            throw new ArgumentException(
                "BatchNorm1d: training needs at least 2 rows to estimate a variance, got 1.");
        }

        var mean = Workspace.Rent(be, c);
        var invStd = Workspace.Rent(be, c);
        be.BatchNormForwardTrain(
            x.Data, n, c, gamma.Data, beta.Data, runningMean.Data, runningVar.Data,
            momentum, eps, y.Data, mean, invStd);

        return Autograd.Record(y, nameof(BatchNorm1d), [x, gamma, beta], dy =>
        {
            var dx = Workspace.Rent(be, x.Length);
            // The kernel adds into dGamma and dBeta; unwanted ones go to zeroed scratch.
            var dGamma = gamma.RequiresGrad ? Autograd.GradTarget(gamma, out _) : Workspace.RentZeroed(be, c);
            var dBeta = beta.RequiresGrad ? Autograd.GradTarget(beta, out _) : Workspace.RentZeroed(be, c);
            be.BatchNormBackward(x.Data, dy, n, c, gamma.Data, mean, invStd, dx, dGamma, dBeta);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }
}
