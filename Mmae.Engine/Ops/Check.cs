namespace Mmae.Engine;

// Shape and device validation for op entry points; messages name the op and both shapes.
internal static class Check
{
    public static void SameBackend(string op, Tensor a, Tensor b)
    {
        if (!ReferenceEquals(a.Backend, b.Backend) && a.Backend.GetType() != b.Backend.GetType())
        {
            throw new ArgumentException(
                $"{op}: tensors live on different backends ({a.Backend.Name}, {b.Backend.Name}).");
        }
    }

    public static void SameShape(string op, Tensor a, Tensor b)
    {
        SameBackend(op, a, b);
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
        {
            throw new ArgumentException(
                $"{op}: shapes differ, {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
        }
    }

    public static void Matrix(string op, Tensor t, string what)
    {
        if (t.Shape.Length != 2)
        {
            throw new ArgumentException(
                $"{op}: expected {what} as a matrix (rows, cols), got {ShapeUtil.Format(t.Shape)}. "
                + "Flatten it first.");
        }
    }

    // Latent codes z (p, m) against reference rows e (p, l): one reference row per sample.
    public static void LatentAndReference(string op, Tensor z, Tensor e)
    {
        Matrix(op, z, "latent codes");
        Matrix(op, e, "reference rows");
        SameBackend(op, z, e);
        if (z.Rows != e.Rows)
        {
            throw new ArgumentException(
                $"{op}: latent codes have {z.Rows} rows, reference has {e.Rows}; "
                + "each sample needs its own reference row.");
        }
    }
}
