using Mmae.Engine;
using Mmae.Train.Data;
using Mmae.Train.Metrics;

namespace Mmae.Train.Training;

/// <summary>
/// The quality figures of a trained model on its evaluation subset, shared by <c>mmae train</c>
/// (at the end of a run) and <c>mmae evaluate</c>, so both report the same numbers.
/// </summary>
public static class Evaluation
{
    /// <summary>Neighbourhood sizes of trustworthiness, continuity and MRRE.</summary>
    public static readonly int[] Ks = [3, 5, 10, 25, 100];

    // The subset is drawn with a seed of its own, not the run's, so runs with different seeds
    // are measured on the same samples.
    private const ulong SubsetSeed = 0x5EED_E7A1;

    /// <summary>
    /// The evaluation subset: <paramref name="size"/> samples (all when size ≥ count) drawn at
    /// random with a fixed seed, in ascending order. Random rather than the first ones, because
    /// some data sets (dSprites) are stored sorted by their factors.
    /// </summary>
    public static int[] Subset(int count, int size)
    {
        int[] all = Enumerable.Range(0, count).ToArray();
        if (size >= count)
        {
            return all;
        }

        new Rng(SubsetSeed).Shuffle(all.AsSpan());
        int[] chosen = all[..size];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>The ks an evaluation of <paramref name="n"/> samples can use (k &lt; n/2), and a
    /// line naming the ones left out, or null when none is.</summary>
    public static (int[] Usable, string? Dropped) UsableKs(int n)
    {
        int[] usable = Ks.Where(k => 2L * k < n).ToArray();
        int[] dropped = Ks.Except(usable).ToArray();
        return (usable, dropped.Length == 0
            ? null
            : $"k = {string.Join(", ", dropped)} left out: each needs more than 2k evaluation samples "
                + $"and there are {n} (raise --eval-size)");
    }

    /// <summary>
    /// Every quality figure of latent codes against their inputs on the rows <paramref name="subset"/>
    /// of <paramref name="data"/>, or null with the reason when they cannot be computed (too few
    /// samples, or a latent space collapsed to one point).
    /// </summary>
    /// <param name="data">The data set (inputs and labels).</param>
    /// <param name="inputs">Inputs of the subset's rows as the model saw them (possibly corrupted),
    /// subset.Length × data.Dim.</param>
    /// <param name="codes">Latent codes of the subset's rows, subset.Length × latentDim.</param>
    /// <param name="latentDim">m.</param>
    /// <param name="reconstructions">Reconstructions of the subset's rows, or null.</param>
    /// <param name="subset">Row indices into data.</param>
    /// <param name="threads">CPU threads; 0 for every core.</param>
    public static (QualityReport? Report, string? Why) Run(Dataset data, float[] inputs, float[] codes,
        int latentDim, float[]? reconstructions, int[] subset, int threads)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(subset);
        (int[] ks, string? dropped) = UsableKs(subset.Length);
        if (ks.Length == 0)
        {
            return (null, dropped);
        }

        int[] labels = subset.Select(i => data.Labels[i]).ToArray();
        bool labelled = labels.Distinct().Count() >= 2;
        try
        {
            QualityReport report = QualityMetrics.Evaluate(inputs, data.Dim, codes, latentDim, reconstructions,
                labelled ? labels : null, new QualityOptions { Ks = ks, Threads = threads });
            return (report, dropped);
        }
        catch (ArgumentException ex)
        {
            return (null, "quality metrics not computed: " + DataFile.OneLine(ex.Message));
        }
    }

    /// <summary>The rows <paramref name="subset"/> of a row-major matrix of width
    /// <paramref name="dim"/>.</summary>
    public static float[] Rows(float[] matrix, int dim, int[] subset)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(subset);
        var result = new float[subset.Length * dim];
        for (int r = 0; r < subset.Length; r++)
        {
            Array.Copy(matrix, (long)subset[r] * dim, result, (long)r * dim, dim);
        }

        return result;
    }
}
