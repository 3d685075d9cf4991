using System.Runtime.CompilerServices;

namespace Mmae.Train.Embeddings;

/// <summary>
/// UMAP's layout optimisation: stochastic gradient descent on the fuzzy cross-entropy between
/// the graph and the embedding, with negative sampling.
/// </summary>
/// <remarks>
/// <para>n = points, L = dims; y: (n, L) row-major. The embedding similarity is
/// φ(d) = 1 / (1 + a d^(2b)), with a and b fitted to a curve that is 1 up to min_dist and
/// decays as exp(−(d − min_dist) / spread) after (<see cref="FitCurve"/>). Each edge (i, j)
/// of weight w is sampled every max(w) / w epochs: y_i moves along the attractive gradient
/// −2ab d^(2(b−1)) / (1 + a d^(2b)) (y_i − y_j); per sample, <c>negativeRate</c> random
/// points k push y_i away along 2γb / ((0.001 + d²)(1 + a d^(2b))) (y_i − y_k). Every gradient
/// component is clipped to [−4, 4], and the step size falls linearly from the learning rate to
/// 0 over the epochs. Edges lighter than max(w) / epochs are never sampled and dropped.</para>
/// <para>Parallel and reproducible: in each epoch a point moves only itself, reading the
/// other points as they were at the start of the epoch, and draws its negative samples from
/// its own counter-based random stream, so the result depends on the seed, not on the thread
/// count. The reference implementation moves both ends of an edge; here the graph is
/// symmetric, so each end moves when its own copy of the edge is sampled, and the attractive
/// step is doubled to keep the balance of attraction and repulsion the same.</para>
/// </remarks>
public static class UmapLayout
{
    private const float Clip = 4f;

    // Points per work item of an epoch.
    private const int ChunkSize = 256;

    /// <summary>Fits a and b of φ(d) = 1 / (1 + a d^(2b)) by least squares to the target curve
    /// on 300 points in [0, 3 spread], by Levenberg-Marquardt from a = b = 1.</summary>
    /// <param name="spread">Scale of the decay, &gt; 0.</param>
    /// <param name="minDist">Distance up to which the target is 1, ≥ 0.</param>
    /// <returns>The fitted a and b.</returns>
    public static (double A, double B) FitCurve(double spread, double minDist)
    {
        const int Points = 300;
        double[] xs = new double[Points];
        double[] ys = new double[Points];
        for (int s = 0; s < Points; s++)
        {
            xs[s] = 3 * spread * s / (Points - 1);
            ys[s] = xs[s] < minDist ? 1 : Math.Exp(-(xs[s] - minDist) / spread);
        }

        double a = 1, b = 1, damping = 1e-3;
        double cost = CurveCost(xs, ys, a, b);
        for (int it = 0; it < 500; it++)
        {
            // Normal equations of the linearised residuals r_s = φ(x_s) − y_s.
            double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
            for (int s = 0; s < Points; s++)
            {
                double x = xs[s];
                double u = x > 0 ? Math.Pow(x, 2 * b) : 0;
                double phi = 1 / (1 + a * u);
                double r = phi - ys[s];
                double da = -u * phi * phi;
                double db = x > 0 ? -a * u * 2 * Math.Log(x) * phi * phi : 0;
                jaa += da * da;
                jab += da * db;
                jbb += db * db;
                ga += da * r;
                gb += db * r;
            }

            double maa = jaa * (1 + damping), mbb = jbb * (1 + damping);
            double det = maa * mbb - jab * jab;
            double stepA = -(mbb * ga - jab * gb) / det;
            double stepB = -(maa * gb - jab * ga) / det;
            double trial = CurveCost(xs, ys, a + stepA, b + stepB);
            if (trial < cost)
            {
                a += stepA;
                b += stepB;
                bool done = cost - trial < 1e-15 * (1 + cost);
                cost = trial;
                damping = Math.Max(damping / 10, 1e-12);
                if (done)
                {
                    break;
                }
            }
            else
            {
                damping *= 10;
                if (damping > 1e12)
                {
                    break;
                }
            }
        }

        return (a, b);
    }

    /// <summary>Σ_s (φ(x_s) − y_s)², the least-squares cost of a and b.</summary>
    public static double CurveCost(double[] xs, double[] ys, double a, double b)
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(ys);
        double cost = 0;
        for (int s = 0; s < xs.Length; s++)
        {
            double u = xs[s] > 0 ? Math.Pow(xs[s], 2 * b) : 0;
            double r = 1 / (1 + a * u) - ys[s];
            cost += r * r;
        }

        return cost;
    }

    /// <summary>Runs the epochs of SGD on <paramref name="y"/> in place.</summary>
    /// <param name="graph">Symmetric membership graph.</param>
    /// <param name="y">n × L starting coordinates, row-major; overwritten.</param>
    /// <param name="dims">L.</param>
    /// <param name="o">Epochs, learning rate, negative sampling rate, repulsion, seed.</param>
    /// <param name="a">Curve parameter a.</param>
    /// <param name="b">Curve parameter b.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    public static void Optimise(SparseMatrix graph, float[] y, int dims, UmapOptions o, double a,
        double b, int threads)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(o);
        int n = graph.Size;
        int epochs = o.EpochsFor(n);
        double maxWeight = graph.Values.Length > 0 ? graph.Values.Max() : 0;
        int edges = graph.NonZeros;

        // epochsPerSample[e] = max(w) / w; non-positive marks an edge that is never sampled.
        float[] perSample = new float[edges];
        float[] nextSample = new float[edges];
        float[] perNegative = new float[edges];
        float[] nextNegative = new float[edges];
        for (int e = 0; e < edges; e++)
        {
            double w = graph.Values[e];
            bool kept = w > 0 && w >= maxWeight / epochs;
            perSample[e] = kept ? (float)(maxWeight / w) : -1;
            nextSample[e] = perSample[e];
            perNegative[e] = perSample[e] / o.NegativeSampleRate;
            nextNegative[e] = perNegative[e];
        }

        ulong[] streams = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            streams[i] = RowMath.Mix(((ulong)o.Seed << 32) + (ulong)i + 0x632BE59BD9B4E019UL);
        }

        var step = new Step(graph, (float)a, (float)b, (float)o.RepulsionStrength, dims, perSample,
            nextSample, perNegative, nextNegative, streams);
        float[] snapshot = new float[y.Length];
        ParallelOptions parallel = RowMath.Parallelism(threads);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            y.CopyTo(snapshot, 0);
            float alpha = (float)(o.LearningRate * (1.0 - (double)epoch / epochs));
            Parallel.For(0, (n + ChunkSize - 1) / ChunkSize, parallel, chunk =>
            {
                int end = Math.Min(n, (chunk + 1) * ChunkSize);
                for (int i = chunk * ChunkSize; i < end; i++)
                {
                    step.Point(i, epoch, alpha, snapshot, y);
                }
            });
        }
    }

    // One point's work in one epoch; the arrays are shared, each point writes only its own
    // entries (its edges, its stream, its coordinates).
    private sealed class Step(SparseMatrix graph, float a, float b, float gamma, int dims,
        float[] perSample, float[] nextSample, float[] perNegative, float[] nextNegative,
        ulong[] streams)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Point(int i, int epoch, float alpha, float[] snapshot, float[] y)
        {
            int n = graph.Size;
            Span<float> current = y.AsSpan(i * dims, dims);
            for (int e = graph.RowStart[i]; e < graph.RowStart[i + 1]; e++)
            {
                if (perSample[e] <= 0 || nextSample[e] > epoch)
                {
                    continue;
                }

                ReadOnlySpan<float> other = snapshot.AsSpan(graph.Columns[e] * dims, dims);
                float d2 = SquaredDistance(current, other);
                if (d2 > 0)
                {
                    // Both ends' moves of the reference implementation, applied to this end;
                    // d^(2(b−1)) is d^(2b) / d², so one power serves both terms.
                    float d2b = MathF.Pow(d2, b);
                    float coefficient = -2f * a * b * (d2b / d2) / (a * d2b + 1f);
                    Move(current, other, coefficient, 2f * alpha);
                }

                nextSample[e] += perSample[e];
                int negatives = (int)((epoch - nextNegative[e]) / perNegative[e]);
                for (int s = 0; s < negatives; s++)
                {
                    streams[i] += 0x9E3779B97F4A7C15UL;
                    int k = (int)(RowMath.Mix(streams[i]) % (ulong)n);
                    if (k == i)
                    {
                        continue;
                    }

                    other = snapshot.AsSpan(k * dims, dims);
                    d2 = SquaredDistance(current, other);
                    if (d2 > 0)
                    {
                        float coefficient = 2f * gamma * b / ((0.001f + d2) * (a * MathF.Pow(d2, b) + 1f));
                        Move(current, other, coefficient, alpha);
                    }
                }

                nextNegative[e] += negatives * perNegative[e];
            }
        }

        private static float SquaredDistance(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
        {
            float sum = 0;
            for (int c = 0; c < p.Length; c++)
            {
                float diff = p[c] - q[c];
                sum += diff * diff;
            }

            return sum;
        }

        // current += rate · clip(coefficient (current − other)), component-wise.
        private static void Move(Span<float> current, ReadOnlySpan<float> other, float coefficient,
            float rate)
        {
            for (int c = 0; c < current.Length; c++)
            {
                float g = Math.Clamp(coefficient * (current[c] - other[c]), -Clip, Clip);
                current[c] += rate * g;
            }
        }
    }
}
