namespace Mmae.Engine;

// B = batch, I = in features, O = out features; x: (B, I), w: (O, I), b: (O), y: (B, O).
public static partial class Ops
{
    /// <summary>y = x·wᵀ + b, PyTorch's Linear with weight stored (out, in).</summary>
    /// <exception cref="ArgumentException">Shapes do not chain.</exception>
    public static Tensor Linear(Tensor x, Tensor w, Tensor? b)
    {
        Check.Matrix(nameof(Linear), x, "input");
        Check.SameBackend(nameof(Linear), x, w);
        int batch = x.Rows, inF = x.Cols, outF = w.Rows;
        if (w.Shape.Length != 2 || w.Cols != inF)
        {
            throw new ArgumentException(
                $"Linear: expected input (batch, {w.Cols}), got {ShapeUtil.Format(x.Shape)}.");
        }

        if (b is not null && b.Length != outF)
        {
            throw new ArgumentException($"Linear: bias has {b.Length} elements, weight has {outF} rows.");
        }

        var be = x.Backend;
        var y = Tensor.Empty(be, batch, outF);
        be.Gemm(false, true, batch, outF, inF, 1f, x.Data, w.Data, 0f, y.Data);
        if (b is not null)
        {
            be.AddRowVector(y.Data, b.Data, batch, outF);
        }

        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        return Autograd.Record(y, nameof(Linear), inputs, dy =>
        {
            // dx = dy·w (B×O · O×I); dw = dyᵀ·x (O×B · B×I); db = Σ_rows dy.
            if (x.RequiresGrad)
            {
                var dx = Autograd.GradTarget(x, out float beta);
                be.Gemm(false, false, batch, inF, outF, 1f, dy, w.Data, beta, dx);
            }

            if (w.RequiresGrad)
            {
                var dw = Autograd.GradTarget(w, out float beta);
                be.Gemm(true, false, outF, inF, batch, 1f, dy, x.Data, beta, dw);
            }

            if (b is not null && b.RequiresGrad)
            {
                var db = Autograd.GradTarget(b, out float beta);
                be.ColumnSums(dy, batch, outF, db, accumulate: beta != 0f);
            }
        });
    }
}
