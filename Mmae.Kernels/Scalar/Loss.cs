namespace Mmae.Kernels.Scalar;

// Reconstruction loss. n = a.Length = b.Length; a, b, da: (n); loss, dLoss: (1).
// L = (1/n) Σ_i (a_i − b_i)²,  ∂L/∂a_i = 2·(a_i − b_i)/n.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <remarks>With n = 0 the mean of nothing is 0/0, so loss[0] is NaN (as in PyTorch).
    /// </remarks>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths of
    /// <paramref name="a"/> and <paramref name="b"/> differ, or <paramref name="loss"/> does
    /// not hold exactly one element.</exception>
    public void MseForward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer loss)
    {
        double[] aData = Own(a);
        double[] bData = Own(b, aData.Length);
        double[] lossData = Own(loss, 1);
        int n = aData.Length;

        double sum = 0.0;
        for (int i = 0; i < n; i++)
        {
            double diff = aData[i] - bData[i];
            sum += diff * diff;
        }

        lossData[0] = sum / n;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths of
    /// <paramref name="a"/>, <paramref name="b"/> and <paramref name="da"/> differ, or
    /// <paramref name="dLoss"/> does not hold exactly one element.</exception>
    public void MseBackward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dLoss, DeviceBuffer da)
    {
        double[] aData = Own(a);
        double[] bData = Own(b, aData.Length);
        double dL = Own(dLoss, 1)[0];
        double[] daData = Own(da, aData.Length);
        int n = aData.Length;

        for (int i = 0; i < n; i++)
        {
            daData[i] = dL * 2.0 * (aData[i] - bData[i]) / n;
        }
    }
}
