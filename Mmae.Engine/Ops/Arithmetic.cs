namespace Mmae.Engine;

/// <summary>Differentiable operations. Each forward sits next to its backward.</summary>
public static partial class Ops
{
    /// <summary>a + b, elementwise.</summary>
    /// <exception cref="ArgumentException">Shapes or backends differ.</exception>
    public static Tensor Add(Tensor a, Tensor b)
    {
        Check.SameShape(nameof(Add), a, b);
        var y = Tensor.Empty(a.Backend, a.Shape);
        a.Backend.Add(a.Data, b.Data, y.Data);

        // d(a + b) = da + db: the incoming gradient passes to both inputs unchanged.
        return Autograd.Record(y, nameof(Add), [a, b], dy =>
        {
            Autograd.Accumulate(a, dy, owned: false);
            Autograd.Accumulate(b, dy, owned: false);
        });
    }

    /// <summary>alpha · a, elementwise.</summary>
    public static Tensor Scale(Tensor a, float alpha)
    {
        var y = Tensor.Empty(a.Backend, a.Shape);
        a.Backend.Fill(y.Data, 0f);
        a.Backend.Axpy(alpha, a.Data, y.Data);

        // d(alpha·a) = alpha·da.
        return Autograd.Record(y, nameof(Scale), [a], dy =>
        {
            Kernels.DeviceBuffer dx = Autograd.GradTarget(a, out float beta);
            if (beta == 0f)
            {
                a.Backend.Fill(dx, 0f);
            }

            a.Backend.Axpy(alpha, dy, dx);
        });
    }
}
