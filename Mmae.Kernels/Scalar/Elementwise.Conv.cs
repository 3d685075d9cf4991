namespace Mmae.Kernels.Scalar;

// Elementwise kernels of the convolutional networks: LeakyReLU and the dropout product.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void LeakyRelu(DeviceBuffer x, float slope, DeviceBuffer dst)
    {
        double[] d = Own(dst);
        double[] xd = Own(x, d.Length);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = xd[i] > 0.0 ? xd[i] : slope * xd[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float slope, DeviceBuffer dx)
    {
        double[] dxd = Own(dx);
        double[] xd = Own(x, dxd.Length);
        double[] dyd = Own(dy, dxd.Length);
        for (int i = 0; i < dxd.Length; i++)
        {
            // d/dx = 1 above zero, slope below.
            dxd[i] = xd[i] > 0.0 ? dyd[i] : slope * dyd[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst)
    {
        double[] d = Own(dst);
        double[] ad = Own(a, d.Length);
        double[] bd = Own(b, d.Length);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = ad[i] * bd[i];
        }
    }
}
