using Mmae.Kernels;

namespace Mmae.Engine;

/// <summary>
/// Recycles the device buffers of repeated steps. Inside <see cref="Step"/>, every op output and
/// every temporary gradient comes from this workspace; when the step's scope ends they all
/// return to it, and the next step, which asks for the same sizes in the same order, gets them
/// back. Steady-state training then allocates nothing.
/// </summary>
/// <remarks>
/// Tensors computed inside a step must not be used after the step's scope ends: their memory
/// is handed to the next step. Copy what must outlive the step to the host first (as
/// <see cref="Tensor.Item"/> and <see cref="Tensor.ToArray"/> do). Parameters, their
/// gradients and optimizer state are never taken from a workspace. One workspace is active per
/// thread at a time.
/// </remarks>
public sealed class Workspace
{
    [ThreadStatic]
    private static Workspace? t_active;

    private readonly IBackend _backend;
    private readonly Dictionary<int, Stack<DeviceBuffer>> _free = [];
    private readonly List<DeviceBuffer> _lent = [];

    /// <summary>An empty workspace for tensors on <paramref name="backend"/>.</summary>
    public Workspace(IBackend backend) => _backend = backend;

    /// <summary>Number of buffers this workspace owns (lent or free).</summary>
    public int BufferCount => _lent.Count + _free.Values.Sum(s => s.Count);

    /// <summary>Makes this workspace active until the returned scope is disposed.</summary>
    /// <exception cref="InvalidOperationException">Another workspace is active on this thread.</exception>
    public IDisposable Step()
    {
        if (t_active is not null)
        {
            throw new InvalidOperationException("Workspace.Step: a workspace is already active on this thread.");
        }

        t_active = this;
        return new Scope(this);
    }

    /// <summary>
    /// A buffer of <paramref name="length"/> elements with undefined contents: from the active
    /// workspace when it serves this backend, else freshly allocated.
    /// </summary>
    internal static DeviceBuffer Rent(IBackend backend, int length)
    {
        Workspace? ws = t_active;
        if (ws is null || !ReferenceEquals(ws._backend, backend))
        {
            return backend.Allocate(length);
        }

        DeviceBuffer buffer = ws._free.TryGetValue(length, out var stack) && stack.Count > 0
            ? stack.Pop()
            : backend.Allocate(length);
        ws._lent.Add(buffer);
        return buffer;
    }

    /// <summary>As <see cref="Rent"/>, filled with zeros.</summary>
    internal static DeviceBuffer RentZeroed(IBackend backend, int length)
    {
        DeviceBuffer buffer = Rent(backend, length);
        backend.Fill(buffer, 0f);
        return buffer;
    }

    private void EndStep()
    {
        foreach (DeviceBuffer buffer in _lent)
        {
            if (!_free.TryGetValue(buffer.Length, out var stack))
            {
                stack = new Stack<DeviceBuffer>();
                _free[buffer.Length] = stack;
            }

            stack.Push(buffer);
        }

        _lent.Clear();
        t_active = null;
    }

    private sealed class Scope(Workspace owner) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                owner.EndStep();
            }
        }
    }
}
