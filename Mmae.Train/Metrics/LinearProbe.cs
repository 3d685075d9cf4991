using Mmae.Train.Embeddings;

namespace Mmae.Train.Metrics;

/// <summary>The outcome of a linear probe.</summary>
/// <param name="Accuracy">Fraction of held-out points classified correctly.</param>
/// <param name="TrainCount">Points the classifier was fitted on.</param>
/// <param name="TestCount">Held-out points it was scored on.</param>
/// <param name="Classes">Distinct labels.</param>
public sealed record LinearProbeResult(double Accuracy, int TrainCount, int TestCount, int Classes);

/// <summary>
/// A linear probe: how much class information latent codes carry in linearly readable form.
/// A single-layer softmax classifier is fitted on a seeded random share of the codes and scored
/// on the rest.
/// </summary>
/// <remarks>
/// <para>n = points, d = code dim, C = classes, F = d + 1 (a bias input of 1); codes: (n, d)
/// row-major; weights W: (C, F). Features are standardised with the training points' mean and
/// standard deviation (a constant feature is only centred). The fit minimises the mean
/// cross-entropy plus (λ / 2) |W|² (λ = <see cref="L2"/>, bias column excluded, so separable
/// classes keep finite weights) by <see cref="Iterations"/> full-batch Nesterov-accelerated
/// gradient steps from W = 0, with step 1 / L, L = ½ mean |x|² + λ, an upper bound on the
/// curvature, so no learning rate needs tuning.</para>
/// <para>The split is a Fisher-Yates shuffle from <c>new Random(seed)</c>; gradients are summed
/// in fixed chunks added in order, so the result depends on the seed only, not on the thread
/// count. Prediction ties go to the lowest label.</para>
/// </remarks>
public static class LinearProbe
{
    /// <summary>Gradient steps of the fit.</summary>
    public const int Iterations = 300;

    /// <summary>L2 weight penalty λ.</summary>
    public const double L2 = 1e-4;

    // Training points per gradient chunk.
    private const int ChunkPoints = 256;

    /// <summary>Fits the probe on a share of the points and scores it on the rest.</summary>
    /// <param name="codes">n × dim latent codes, row-major.</param>
    /// <param name="dim">Code dimension.</param>
    /// <param name="labels">One label per point (n of them); any int values.</param>
    /// <param name="testFraction">Share of points held out for scoring, in (0, 1).</param>
    /// <param name="seed">Seed of the split.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <exception cref="ArgumentException">A length does not match, a value is not finite, or
    /// there are fewer than 2 classes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">testFraction leaves no test point or
    /// fewer than 2 training points.</exception>
    public static LinearProbeResult Evaluate(
        float[] codes,
        int dim,
        IReadOnlyList<int> labels,
        double testFraction,
        int seed,
        int threads = 0)
    {
        const string Op = "LinearProbe.Evaluate";
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.Count;
        PairwiseRows.CheckPoints(Op, codes, dim, n, nameof(codes));
        (int[] y, int classes) = Clustering.Classes(labels);
        if (classes < 2)
        {
            throw new ArgumentException(
                $"{Op}: the labels hold {classes} distinct value(s); a probe needs at least 2.",
                nameof(labels));
        }

        int testCount = double.IsFinite(testFraction) ? (int)Math.Round(n * testFraction) : -1;
        if (!(testFraction > 0 && testFraction < 1) || testCount < 1 || n - testCount < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction),
                $"{Op}: test fraction {testFraction} of {n} points gives {testCount} test and "
                + $"{n - testCount} training points; need at least 1 and 2.");
        }

        int[] order = Enumerable.Range(0, n).ToArray();
        var random = new Random(seed);
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        int[] test = order[..testCount];
        int[] train = order[testCount..];
        int f = dim + 1;
        double[] xTrain = Standardised(codes, dim, train, train);
        double[] xTest = Standardised(codes, dim, test, train);
        double[] w = Fit(xTrain, train.Select(i => y[i]).ToArray(), f, classes, threads);

        int correct = 0;
        double[] scores = new double[classes];
        for (int t = 0; t < test.Length; t++)
        {
            Scores(w, xTest.AsSpan(t * f, f), scores);
            correct += Array.IndexOf(scores, scores.Max()) == y[test[t]] ? 1 : 0;
        }

        return new LinearProbeResult((double)correct / testCount, train.Length, testCount, classes);
    }

    // Rows `pick` of codes, each feature standardised by the statistics of rows `stats`, plus
    // a trailing 1 for the bias: (pick.Length, dim + 1).
    private static double[] Standardised(float[] codes, int dim, int[] pick, int[] stats)
    {
        double[] mean = new double[dim];
        double[] scale = new double[dim];
        foreach (int i in stats)
        {
            for (int c = 0; c < dim; c++)
            {
                mean[c] += codes[i * dim + c];
            }
        }

        for (int c = 0; c < dim; c++)
        {
            mean[c] /= stats.Length;
        }

        foreach (int i in stats)
        {
            for (int c = 0; c < dim; c++)
            {
                double diff = codes[i * dim + c] - mean[c];
                scale[c] += diff * diff;
            }
        }

        for (int c = 0; c < dim; c++)
        {
            double sd = Math.Sqrt(scale[c] / stats.Length);
            scale[c] = sd > 0 ? 1.0 / sd : 1.0;
        }

        double[] x = new double[pick.Length * (dim + 1)];
        for (int r = 0; r < pick.Length; r++)
        {
            for (int c = 0; c < dim; c++)
            {
                x[r * (dim + 1) + c] = (codes[pick[r] * dim + c] - mean[c]) * scale[c];
            }

            x[r * (dim + 1) + dim] = 1.0;
        }

        return x;
    }

    // Nesterov's accelerated gradient on the penalised cross-entropy; returns W, (C, F).
    private static double[] Fit(double[] x, int[] y, int f, int classes, int threads)
    {
        int n = y.Length;
        double meanNormSq = 0;
        for (int i = 0; i < x.Length; i++)
        {
            meanNormSq += x[i] * x[i];
        }

        meanNormSq /= n;
        double step = 1.0 / (0.5 * meanNormSq + L2);
        int size = classes * f;
        double[] w = new double[size];
        double[] previous = new double[size];
        double[] look = new double[size];
        int chunks = (n + ChunkPoints - 1) / ChunkPoints;
        double[] partial = new double[chunks * size];
        ParallelOptions parallel = RowMath.Parallelism(threads);
        for (int t = 0; t < Iterations; t++)
        {
            double momentum = t / (t + 3.0);
            for (int p = 0; p < size; p++)
            {
                look[p] = w[p] + momentum * (w[p] - previous[p]);
            }

            // dW = (1/n) Σ_i (softmax(W x_i) − onehot(y_i)) x_iᵀ, one partial sum per chunk.
            Array.Clear(partial);
            Parallel.For(0, chunks, parallel, () => new double[classes], (ch, _, prob) =>
            {
                Span<double> dW = partial.AsSpan(ch * size, size);
                for (int i = ch * ChunkPoints; i < Math.Min(n, (ch + 1) * ChunkPoints); i++)
                {
                    ReadOnlySpan<double> xi = x.AsSpan(i * f, f);
                    Softmax(look, xi, prob);
                    prob[y[i]] -= 1.0;
                    for (int c = 0; c < classes; c++)
                    {
                        Span<double> row = dW.Slice(c * f, f);
                        for (int q = 0; q < f; q++)
                        {
                            row[q] += prob[c] * xi[q];
                        }
                    }
                }

                return prob;
            }, _ => { });

            // previous ← W; W ← look − step (dW + λ look), reusing the old previous buffer.
            (w, previous) = (previous, w);
            for (int p = 0; p < size; p++)
            {
                double dW = 0;
                for (int ch = 0; ch < chunks; ch++)
                {
                    dW += partial[ch * size + p];
                }

                bool bias = p % f == f - 1;
                w[p] = look[p] - step * (dW / n + (bias ? 0 : L2 * look[p]));
            }
        }

        return w;
    }

    private static void Scores(double[] w, ReadOnlySpan<double> x, double[] scores)
    {
        int f = x.Length;
        for (int c = 0; c < scores.Length; c++)
        {
            double s = 0;
            for (int q = 0; q < f; q++)
            {
                s += w[c * f + q] * x[q];
            }

            scores[c] = s;
        }
    }

    private static void Softmax(double[] w, ReadOnlySpan<double> x, double[] prob)
    {
        Scores(w, x, prob);
        double max = prob.Max();
        double sum = 0;
        for (int c = 0; c < prob.Length; c++)
        {
            prob[c] = Math.Exp(prob[c] - max);
            sum += prob[c];
        }

        for (int c = 0; c < prob.Length; c++)
        {
            prob[c] /= sum;
        }
    }
}
