namespace Mmae.Train.Data;

/// <summary>How a generative factor varies.</summary>
public enum FactorKind
{
    /// <summary>Unordered classes, such as dSprites' shape.</summary>
    Discrete,

    /// <summary>An ordered quantity sampled on a grid, such as scale or position.</summary>
    Continuous,

    /// <summary>Present or absent, such as a CelebA attribute; classes 0 and 1.</summary>
    Binary,
}

/// <summary>One generative factor of a data set, known for every sample.</summary>
/// <param name="Name">The factor's name as the data set spells it (<c>posX</c>,
/// <c>Smiling</c>).</param>
/// <param name="Kind">Discrete, continuous or binary.</param>
/// <param name="Classes">Per sample, the class index 0..ClassCount−1 (for a continuous factor,
/// the index of the grid step).</param>
/// <param name="Values">Per sample, the factor's value (for a binary factor, the value as
/// stored, such as −1 or 1).</param>
public sealed record Factor(string Name, FactorKind Kind, int[] Classes, float[] Values)
{
    /// <summary>Number of distinct classes: the largest class index plus one.</summary>
    public int ClassCount => Classes.Length == 0 ? 0 : Classes.Max() + 1;
}

/// <summary>The generative factors of a data set: one <see cref="Factor"/> per column, each
/// with a class and a value per sample.</summary>
public sealed class FactorTable
{
    /// <summary>Wraps <paramref name="factors"/>, each holding <paramref name="count"/>
    /// samples.</summary>
    /// <param name="count">Samples per factor.</param>
    /// <param name="factors">The factors; names must be distinct.</param>
    /// <exception cref="ArgumentException">A factor's arrays do not hold count entries, or two
    /// factors share a name.</exception>
    public FactorTable(int count, IReadOnlyList<Factor> factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        foreach (Factor f in factors)
        {
            if (f.Classes.Length != count || f.Values.Length != count)
            {
                throw new ArgumentException(
                    $"FactorTable: factor '{f.Name}' has {f.Classes.Length} classes and "
                    + $"{f.Values.Length} values, expected {count} of each.", nameof(factors));
            }
        }

        string? repeated = factors.GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (repeated is not null)
        {
            throw new ArgumentException(
                $"FactorTable: factor name '{repeated}' appears twice.", nameof(factors));
        }

        Count = count;
        Factors = factors;
    }

    /// <summary>Samples per factor.</summary>
    public int Count { get; }

    /// <summary>The factors, in the data set's order.</summary>
    public IReadOnlyList<Factor> Factors { get; }

    /// <summary>The factor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No factor has that name; the message lists
    /// those that exist.</exception>
    public Factor this[string name] =>
        Factors.FirstOrDefault(f => f.Name == name)
        ?? throw new KeyNotFoundException(
            $"FactorTable: no factor '{name}'; factors: {string.Join(", ", Factors.Select(f => f.Name))}.");

    /// <summary>The rows at <paramref name="indices"/>, in that order (indices already
    /// checked by the caller).</summary>
    internal FactorTable Subset(int[] indices)
    {
        var factors = Factors.Select(f => f with
        {
            Classes = Array.ConvertAll(indices, i => f.Classes[i]),
            Values = Array.ConvertAll(indices, i => f.Values[i]),
        }).ToArray();
        return new FactorTable(indices.Length, factors);
    }

    /// <summary>Class indices for grid values: the rank of each value among the distinct
    /// values, so 0.5, 0.6, … become 0, 1, ….</summary>
    /// <param name="values">One value per sample.</param>
    public static int[] RankClasses(float[] values)
    {
        float[] distinct = values.Distinct().Order().ToArray();
        return Array.ConvertAll(values, v => Array.BinarySearch(distinct, v));
    }
}
