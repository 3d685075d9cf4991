using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Mmae.Kernels.Scalar;

/// <summary>
/// The correctness oracle: every <see cref="IBackend"/> kernel as plain, single-threaded loops
/// over float64 storage, written so each one can be checked by eye against its formula.
/// </summary>
/// <remarks>
/// <para>
/// Faster backends and every gradient are tested against this class, so clarity wins over
/// speed: no SIMD, no blocking, no threads, sums in index order, and all arithmetic in double
/// (float arguments such as <c>alpha</c> or <c>eps</c> are widened first).
/// </para>
/// <para>
/// Unlike the fast backends, which trust shapes and only <c>Debug.Assert</c>, this class checks
/// every argument and throws: a silent out-of-range read in the oracle would corrupt the
/// evidence every other kernel is judged by. Buffers must be <see cref="DoubleBuffer"/>s
/// created by this instance, and their lengths must equal the lengths the shape arguments
/// imply (kernels without shape arguments take the element count from the destination).
/// </para>
/// <para>
/// Elementwise kernels (this file) may write into one of their inputs. Gemm, batch norm,
/// distance and Adam kernels need their outputs to be buffers distinct from their inputs,
/// except where a parameter is documented as updated in place.
/// </para>
/// </remarks>
public sealed partial class ScalarBackend : IBackend
{
    /// <inheritdoc/>
    public string Name => "scalar-f64";

    /// <inheritdoc/>
    public int ElementSize => sizeof(double);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.
    /// </exception>
    public DeviceBuffer Allocate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new DoubleBuffer(this, new double[length]);
    }

    /// <inheritdoc/>
    public DeviceBuffer Upload(ReadOnlySpan<float> data)
    {
        var values = new double[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            values[i] = data[i];
        }

        return new DoubleBuffer(this, values);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">dst is not this backend's or its length differs.
    /// </exception>
    public void Write(ReadOnlySpan<float> src, DeviceBuffer dst)
    {
        double[] d = Own(dst, src.Length);
        for (int i = 0; i < src.Length; i++)
        {
            d[i] = src[i];
        }
    }

    /// <inheritdoc/>
    /// <remarks>Stored exactly: this backend keeps float64.</remarks>
    public DeviceBuffer Upload(ReadOnlySpan<double> data)
    {
        return new DoubleBuffer(this, data.ToArray());
    }

    /// <inheritdoc/>
    /// <remarks>Each element is rounded to the nearest float.</remarks>
    /// <exception cref="ArgumentException"><paramref name="src"/> is not this backend's
    /// buffer, or <paramref name="dst"/> has a different length.</exception>
    public void Download(DeviceBuffer src, Span<float> dst)
    {
        double[] s = Own(src, dst.Length);
        for (int i = 0; i < s.Length; i++)
        {
            dst[i] = (float)s[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="src"/> is not this backend's
    /// buffer, or <paramref name="dst"/> has a different length.</exception>
    public void Download(DeviceBuffer src, Span<double> dst)
    {
        double[] s = Own(src, dst.Length);
        s.CopyTo(dst);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is not this backend's buffer.
    /// </exception>
    public void Fill(DeviceBuffer dst, float value)
    {
        double[] d = Own(dst);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = value;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void Copy(DeviceBuffer src, DeviceBuffer dst)
    {
        double[] d = Own(dst);
        double[] s = Own(src, d.Length);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = s[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst)
    {
        double[] d = Own(dst);
        double[] x = Own(a, d.Length);
        double[] y = Own(b, d.Length);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = x[i] + y[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        double[] yd = Own(y);
        double[] xd = Own(x, yd.Length);
        for (int i = 0; i < yd.Length; i++)
        {
            yd[i] += alpha * xd[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths of
    /// <paramref name="x"/> and <paramref name="y"/> differ, or <paramref name="scale"/> does
    /// not hold exactly one element.</exception>
    public void AxpyScaled(DeviceBuffer scale, float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        double s = Own(scale, 1)[0];
        double[] yd = Own(y);
        double[] xd = Own(x, yd.Length);
        for (int i = 0; i < yd.Length; i++)
        {
            yd[i] += s * alpha * xd[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void Relu(DeviceBuffer x, DeviceBuffer dst)
    {
        double[] d = Own(dst);
        double[] xd = Own(x, d.Length);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = Math.Max(xd[i], 0.0);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void ReluBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx)
    {
        double[] dxd = Own(dx);
        double[] yd = Own(y, dxd.Length);
        double[] dyd = Own(dy, dxd.Length);
        for (int i = 0; i < dxd.Length; i++)
        {
            dxd[i] = yd[i] > 0.0 ? dyd[i] : 0.0;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void Tanh(DeviceBuffer x, DeviceBuffer dst)
    {
        double[] d = Own(dst);
        double[] xd = Own(x, d.Length);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = Math.Tanh(xd[i]);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void TanhBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx)
    {
        double[] dxd = Own(dx);
        double[] yd = Own(y, dxd.Length);
        double[] dyd = Own(dy, dxd.Length);
        for (int i = 0; i < dxd.Length; i++)
        {
            // d tanh(x)/dx = 1 − tanh(x)²
            dxd[i] = dyd[i] * (1.0 - yd[i] * yd[i]);
        }
    }

    /// <summary>
    /// The storage of <paramref name="buffer"/>, after checking that it is a
    /// <see cref="DoubleBuffer"/> created by this backend.
    /// </summary>
    private double[] Own(
        DeviceBuffer buffer,
        [CallerArgumentExpression(nameof(buffer))] string name = "",
        [CallerMemberName] string operation = "")
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is DoubleBuffer owned && ReferenceEquals(owned.Backend, this))
        {
            return owned.Data;
        }

        throw NotOwned(buffer, name, operation);
    }

    /// <summary>
    /// The storage of <paramref name="buffer"/>, after checking ownership and that it holds
    /// exactly <paramref name="length"/> elements.
    /// </summary>
    private double[] Own(
        DeviceBuffer buffer,
        int length,
        [CallerArgumentExpression(nameof(buffer))] string name = "",
        [CallerMemberName] string operation = "")
    {
        double[] data = Own(buffer, name, operation);
        if (data.Length != length)
        {
            ThrowWrongLength(data.Length, length, name, operation);
        }

        return data;
    }

    private ArgumentException NotOwned(DeviceBuffer buffer, string name, string operation)
    {
        string kind = buffer is DoubleBuffer
            ? "a DoubleBuffer of another backend"
            : buffer.GetType().Name;
        return new ArgumentException(
            $"ScalarBackend.{operation}: expected a DoubleBuffer created by this {Name} backend, "
                + $"got {kind} ({buffer.Backend.Name}). "
                + "Upload the data through this backend instance first.",
            name);
    }

    [DoesNotReturn]
    private static void ThrowWrongLength(int actual, int expected, string name, string operation)
    {
        throw new ArgumentException(
            $"ScalarBackend.{operation}: expected {name} to hold {expected} elements, "
                + $"got {actual}.",
            name);
    }

    /// <summary>Throws unless a size argument is zero or positive.</summary>
    private static void NonNegative(
        int size,
        [CallerArgumentExpression(nameof(size))] string name = "",
        [CallerMemberName] string operation = "")
    {
        if (size < 0)
        {
            throw new ArgumentOutOfRangeException(
                name,
                size,
                $"ScalarBackend.{operation}: expected {name} >= 0, got {size}.");
        }
    }
}
