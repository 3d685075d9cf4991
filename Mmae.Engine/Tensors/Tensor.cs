using Mmae.Kernels;

namespace Mmae.Engine;

/// <summary>
/// A dense row-major array of numbers on one backend, optionally tracked by autograd.
/// </summary>
/// <remarks>
/// Element precision is the backend's: float32 on the CPU and GPU backends, float64 on the
/// scalar oracle that gradient checks run on. The host API speaks float and double either way.
/// </remarks>
public sealed class Tensor
{
    internal Tensor(DeviceBuffer data, int[] shape, bool requiresGrad = false)
    {
        Data = data;
        Shape = shape;
        RequiresGrad = requiresGrad;
    }

    /// <summary>The elements on the device.</summary>
    public DeviceBuffer Data { get; }

    /// <summary>Sizes of each dimension.</summary>
    public int[] Shape { get; }

    /// <summary>The backend that owns <see cref="Data"/>.</summary>
    public IBackend Backend => Data.Backend;

    /// <summary>Total number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Size of the first dimension (1 for a scalar).</summary>
    public int Rows => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>Product of all dimensions after the first.</summary>
    public int Cols => Shape.Length <= 1 ? 1 : Length / Shape[0];

    /// <summary>Whether backward passes compute a gradient for this tensor.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Gradient accumulated by <see cref="Backward"/>, or null before the first one.</summary>
    public DeviceBuffer? Grad { get; set; }

    /// <summary>A short name used in error messages and checkpoints (for parameters).</summary>
    public string? Name { get; set; }

    internal Node? Creator { get; set; }

    /// <summary>A zero-filled tensor.</summary>
    public static Tensor Zeros(IBackend backend, params int[] shape) =>
        new(backend.Allocate(ShapeUtil.Count(shape)), (int[])shape.Clone());

    /// <summary>
    /// A tensor with undefined contents for an op to overwrite; inside a
    /// <see cref="Workspace"/> step its memory is recycled.
    /// </summary>
    internal static Tensor Empty(IBackend backend, params int[] shape) =>
        new(Workspace.Rent(backend, ShapeUtil.Count(shape)), shape);

    /// <summary>
    /// A copy of <paramref name="data"/> whose memory, inside a <see cref="Workspace"/> step,
    /// is recycled: for the batches a training step feeds in.
    /// </summary>
    /// <exception cref="ArgumentException">The shape does not hold data.Length elements.</exception>
    public static Tensor Input(IBackend backend, ReadOnlySpan<float> data, params int[] shape)
    {
        ShapeUtil.CheckCount(data.Length, shape);
        DeviceBuffer buffer = Workspace.Rent(backend, data.Length);
        backend.Write(data, buffer);
        return new Tensor(buffer, (int[])shape.Clone());
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The shape does not hold data.Length elements.</exception>
    public static Tensor FromArray(IBackend backend, ReadOnlySpan<float> data, params int[] shape)
    {
        ShapeUtil.CheckCount(data.Length, shape);
        return new Tensor(backend.Upload(data), (int[])shape.Clone());
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The shape does not hold data.Length elements.</exception>
    public static Tensor FromArray(IBackend backend, ReadOnlySpan<double> data, params int[] shape)
    {
        ShapeUtil.CheckCount(data.Length, shape);
        return new Tensor(backend.Upload(data), (int[])shape.Clone());
    }

    /// <summary>A parameter: a leaf tensor whose gradient is kept.</summary>
    public static Tensor Parameter(IBackend backend, ReadOnlySpan<double> data, string name, params int[] shape)
    {
        Tensor t = FromArray(backend, data, shape);
        t.RequiresGrad = true;
        t.Name = name;
        return t;
    }

    /// <summary>Copies the elements to the host as float.</summary>
    public float[] ToArray()
    {
        var result = new float[Length];
        Backend.Download(Data, result);
        return result;
    }

    /// <summary>Copies the elements to the host as double.</summary>
    public double[] ToDoubleArray()
    {
        var result = new double[Length];
        Backend.Download(Data, result);
        return result;
    }

    /// <summary>The value of a one-element tensor (a device-to-host copy).</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public double Item()
    {
        if (Length != 1)
        {
            throw new InvalidOperationException(
                $"Tensor.Item: expected one element, got shape {ShapeUtil.Format(Shape)}.");
        }

        Span<double> one = stackalloc double[1];
        Backend.Download(Data, one);
        return one[0];
    }

    /// <summary>The gradient copied to the host, or null when none was computed.</summary>
    public double[]? GradToDoubleArray()
    {
        if (Grad is null)
        {
            return null;
        }

        var result = new double[Grad.Length];
        Backend.Download(Grad, result);
        return result;
    }

    /// <summary>Back-propagates from this one-element tensor, adding into every leaf's Grad.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not a scalar.</exception>
    public void Backward() => Autograd.Backward(this);

    /// <summary>Elementwise sum; shapes must match.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);

    /// <summary>Scales every element.</summary>
    public static Tensor operator *(float alpha, Tensor a) => Ops.Scale(a, alpha);

    /// <summary>Scales every element.</summary>
    public static Tensor operator *(Tensor a, float alpha) => Ops.Scale(a, alpha);

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{ShapeUtil.Format(Shape)} on {Backend.Name}";
}
