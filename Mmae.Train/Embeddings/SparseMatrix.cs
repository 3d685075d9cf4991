namespace Mmae.Train.Embeddings;

/// <summary>A square sparse matrix in compressed-row form: the affinity graphs of t-SNE
/// and UMAP.</summary>
/// <remarks>Row i holds Columns[RowStart[i] .. RowStart[i + 1]) in increasing order with
/// the matching Values; there is at most one entry per (row, column).</remarks>
public sealed class SparseMatrix
{
    private SparseMatrix(int size, int[] rowStart, int[] columns, double[] values)
    {
        Size = size;
        RowStart = rowStart;
        Columns = columns;
        Values = values;
    }

    /// <summary>Rows (and columns) n.</summary>
    public int Size { get; }

    /// <summary>n + 1 offsets into <see cref="Columns"/> and <see cref="Values"/>.</summary>
    public int[] RowStart { get; }

    /// <summary>Column of each stored entry.</summary>
    public int[] Columns { get; }

    /// <summary>Value of each stored entry.</summary>
    public double[] Values { get; }

    /// <summary>Number of stored entries.</summary>
    public int NonZeros => Columns.Length;

    /// <summary>The entry (i, j), or 0 when it is not stored.</summary>
    public double this[int i, int j]
    {
        get
        {
            int at = Array.BinarySearch(Columns, RowStart[i], RowStart[i + 1] - RowStart[i], j);
            return at >= 0 ? Values[at] : 0;
        }
    }

    /// <summary>A matrix with k entries a row: row i has columns neighbours[i, ·] and values
    /// values[i, ·] (both (n, k), row-major, columns distinct within a row).</summary>
    public static SparseMatrix FromNeighbours(int n, int k, ReadOnlySpan<int> neighbours,
        ReadOnlySpan<double> values)
    {
        int[] rowStart = new int[n + 1];
        int[] columns = neighbours[..(n * k)].ToArray();
        double[] vals = values[..(n * k)].ToArray();
        for (int i = 0; i < n; i++)
        {
            rowStart[i + 1] = (i + 1) * k;
            Array.Sort(columns, vals, i * k, k);
        }

        return new SparseMatrix(n, rowStart, columns, vals);
    }

    /// <summary>The symmetric matrix S with S_ij = combine(A_ij, A_ji) over the union of the
    /// patterns of A and Aᵀ, a missing entry counting as 0.</summary>
    /// <param name="combine">Called as combine(A_ij, A_ji); must be symmetric in its arguments
    /// for S to be symmetric.</param>
    public SparseMatrix Symmetrize(Func<double, double, double> combine)
    {
        ArgumentNullException.ThrowIfNull(combine);
        SparseMatrix t = Transpose();
        int[] rowStart = new int[Size + 1];
        var columns = new List<int>(2 * NonZeros);
        var values = new List<double>(2 * NonZeros);
        for (int i = 0; i < Size; i++)
        {
            // Merge two sorted column lists: row i of A and row i of Aᵀ.
            int a = RowStart[i], aEnd = RowStart[i + 1];
            int b = t.RowStart[i], bEnd = t.RowStart[i + 1];
            while (a < aEnd || b < bEnd)
            {
                int ca = a < aEnd ? Columns[a] : int.MaxValue;
                int cb = b < bEnd ? t.Columns[b] : int.MaxValue;
                int c = Math.Min(ca, cb);
                double va = ca == c ? Values[a++] : 0;
                double vb = cb == c ? t.Values[b++] : 0;
                columns.Add(c);
                values.Add(combine(va, vb));
            }

            rowStart[i + 1] = columns.Count;
        }

        return new SparseMatrix(Size, rowStart, [.. columns], [.. values]);
    }

    /// <summary>Aᵀ, with sorted rows.</summary>
    public SparseMatrix Transpose()
    {
        int[] rowStart = new int[Size + 1];
        foreach (int c in Columns)
        {
            rowStart[c + 1]++;
        }

        for (int i = 0; i < Size; i++)
        {
            rowStart[i + 1] += rowStart[i];
        }

        int[] next = rowStart[..Size];
        int[] columns = new int[NonZeros];
        double[] values = new double[NonZeros];

        // Rows are visited in order, so each transposed row comes out sorted.
        for (int i = 0; i < Size; i++)
        {
            for (int e = RowStart[i]; e < RowStart[i + 1]; e++)
            {
                int at = next[Columns[e]]++;
                columns[at] = i;
                values[at] = Values[e];
            }
        }

        return new SparseMatrix(Size, rowStart, columns, values);
    }

    /// <summary>Σ of all stored values.</summary>
    public double Sum()
    {
        double sum = 0;
        foreach (double v in Values)
        {
            sum += v;
        }

        return sum;
    }

    /// <summary>Multiplies every stored value by <paramref name="factor"/> in place.</summary>
    public void Scale(double factor)
    {
        for (int e = 0; e < Values.Length; e++)
        {
            Values[e] *= factor;
        }
    }
}
