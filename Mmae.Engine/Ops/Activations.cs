namespace Mmae.Engine;

public static partial class Ops
{
    /// <summary>y = max(x, 0).</summary>
    public static Tensor Relu(Tensor x)
    {
        var be = x.Backend;
        var y = Tensor.Empty(be, x.Shape);
        be.Relu(x.Data, y.Data);

        // dx = dy where y > 0, else 0.
        return Autograd.Record(y, nameof(Relu), [x], dy =>
        {
            var dx = Workspace.Rent(be, x.Length);
            be.ReluBackward(y.Data, dy, dx);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }

    /// <summary>y = tanh(x).</summary>
    public static Tensor Tanh(Tensor x)
    {
        var be = x.Backend;
        var y = Tensor.Empty(be, x.Shape);
        be.Tanh(x.Data, y.Data);

        // dx = dy·(1 − y²).
        return Autograd.Record(y, nameof(Tanh), [x], dy =>
        {
            var dx = Workspace.Rent(be, x.Length);
            be.TanhBackward(y.Data, dy, dx);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }
}
