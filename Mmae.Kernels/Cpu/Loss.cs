namespace Mmae.Kernels.Cpu;

// n = number of elements; a, b, da: (n); loss, dLoss: (1).
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void MseForward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer loss)
    {
        float[] pa = F(a), pb = F(b);
        int n = pa.Length;
        int chunks = (n + ElementChunk - 1) / ElementChunk;
        var partial = new double[Math.Max(chunks, 1)];
        ForChunks(n, (s, e) =>
            partial[s / ElementChunk] = Elementwise.SumSquaredDifference(pa.AsSpan(s..e), pb.AsSpan(s..e)));
        double sum = 0;
        foreach (double v in partial)
        {
            sum += v;
        }

        F(loss)[0] = n == 0 ? 0f : (float)(sum / n);
    }

    /// <inheritdoc/>
    public void MseBackward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dLoss, DeviceBuffer da)
    {
        float[] pa = F(a), pb = F(b), pd = F(da);
        float scale = 2f * F(dLoss)[0] / Math.Max(pa.Length, 1);
        ForChunks(pd.Length, (s, e) =>
            Elementwise.ScaledDifference(pa.AsSpan(s..e), pb.AsSpan(s..e), scale, pd.AsSpan(s..e)));
    }
}
