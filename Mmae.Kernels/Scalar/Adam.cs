namespace Mmae.Kernels.Scalar;

// Adam update. param, grad, m (first moment), v (second moment): (n), all the same length.
// c1 = 1 − β1^t and c2 = 1 − β2^t are the bias corrections for step t, passed in by the caller.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// <paramref name="param"/>, <paramref name="m"/> and <paramref name="v"/> are updated in
    /// place; <paramref name="grad"/> is only read. eps is added after the square root and the
    /// bias correction, as in PyTorch's Adam.
    /// </remarks>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void AdamStep(
        DeviceBuffer param,
        DeviceBuffer grad,
        DeviceBuffer m,
        DeviceBuffer v,
        float learningRate,
        float beta1,
        float beta2,
        float eps,
        float biasCorrection1,
        float biasCorrection2)
    {
        double[] paramData = Own(param);
        double[] gradData = Own(grad, paramData.Length);
        double[] mData = Own(m, paramData.Length);
        double[] vData = Own(v, paramData.Length);

        for (int i = 0; i < paramData.Length; i++)
        {
            double g = gradData[i];
            mData[i] = beta1 * mData[i] + (1.0 - beta1) * g;
            vData[i] = beta2 * vData[i] + (1.0 - beta2) * g * g;

            double mHat = mData[i] / biasCorrection1;
            double vHat = vData[i] / biasCorrection2;
            paramData[i] -= learningRate * mHat / (Math.Sqrt(vHat) + eps);
        }
    }
}
