using Mmae.Kernels;

namespace Mmae.Engine;

/// <summary>Reverse-mode differentiation over the graph that ops record on their outputs.</summary>
public static class Autograd
{
    [ThreadStatic]
    private static int t_noGradDepth;

    /// <summary>Whether ops record graph nodes on this thread right now.</summary>
    public static bool IsRecording => t_noGradDepth == 0;

    /// <summary>Stops graph recording until the returned scope is disposed (evaluation).</summary>
    public static IDisposable NoGrad() => new NoGradScope();

    internal static bool Needs(params Tensor[] inputs)
    {
        if (!IsRecording)
        {
            return false;
        }

        foreach (Tensor t in inputs)
        {
            if (t.RequiresGrad)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Attaches a node to <paramref name="output"/> when any input needs a gradient.</summary>
    internal static Tensor Record(Tensor output, string op, Tensor[] inputs, Action<DeviceBuffer> backward)
    {
        if (Needs(inputs))
        {
            output.RequiresGrad = true;
            output.Creator = new Node(op, inputs, backward);
        }

        return output;
    }

    /// <summary>
    /// Where an op should write the gradient of <paramref name="t"/>, and the beta to use:
    /// 1 (add into the existing gradient) or 0 (a fresh buffer, now t.Grad).
    /// </summary>
    internal static DeviceBuffer GradTarget(Tensor t, out float beta)
    {
        if (t.Grad is null)
        {
            // A leaf's gradient outlives the step and is zeroed (some kernels add into it);
            // an intermediate one is scratch that the writing kernel overwrites (beta = 0).
            t.Grad = t.Creator is null ? t.Backend.Allocate(t.Length) : Workspace.Rent(t.Backend, t.Length);
            beta = 0f;
        }
        else
        {
            beta = 1f;
        }

        return t.Grad;
    }

    /// <summary>t.Grad += g, taking g itself as the gradient when t had none and g is owned.</summary>
    internal static void Accumulate(Tensor t, DeviceBuffer g, bool owned)
    {
        if (!t.RequiresGrad)
        {
            return;
        }

        if (t.Grad is null)
        {
            // A leaf keeps its gradient across steps, so it never takes a recycled buffer.
            if (owned && t.Creator is not null)
            {
                t.Grad = g;
                return;
            }

            t.Grad = t.Creator is null ? t.Backend.Allocate(t.Length) : Workspace.Rent(t.Backend, t.Length);
            t.Backend.Copy(g, t.Grad);
            return;
        }

        t.Backend.Axpy(1f, g, t.Grad);
    }

    internal static void Backward(Tensor root)
    {
        if (root.Length != 1)
        {
            throw new InvalidOperationException(
                $"Backward: expected a one-element loss, got shape {ShapeUtil.Format(root.Shape)}. "
                + "Reduce it (for example with a mean) first.");
        }

        if (root.Creator is null)
        {
            throw new InvalidOperationException(
                "Backward: the tensor was not computed from anything that needs a gradient.");
        }

        List<Tensor> order = TopologicalOrder(root);
        DeviceBuffer seed = Workspace.Rent(root.Backend, 1);
        root.Backend.Fill(seed, 1f);
        Accumulate(root, seed, owned: true);
        for (int i = order.Count - 1; i >= 0; i--)
        {
            Tensor t = order[i];
            if (t.Creator is null || t.Grad is null)
            {
                continue;
            }

            t.Creator.Backward(t.Grad);

            // Intermediate gradients are not kept: a graph is used once, so free the memory.
            t.Grad = null;
            t.Creator = null;
        }
    }

    // Post-order DFS without recursion: inputs appear before the tensors computed from them.
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Tensor, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            (Tensor t, int next) = stack.Pop();
            Tensor[] inputs = t.Creator?.Inputs ?? [];
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                Tensor input = inputs[next];
                if (input.Creator is not null && visited.Add(input))
                {
                    stack.Push((input, 0));
                }
            }
            else
            {
                order.Add(t);
            }
        }

        return order;
    }

    private sealed class NoGradScope : IDisposable
    {
        private bool _disposed;

        public NoGradScope() => t_noGradDepth++;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                t_noGradDepth--;
            }
        }
    }
}
