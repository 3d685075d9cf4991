using Mmae.Kernels;

namespace Mmae.Engine;

/// <summary>
/// The record an op leaves on its output: the inputs, and how to turn the output's gradient
/// into gradients of the inputs.
/// </summary>
internal sealed class Node
{
    public Node(string op, Tensor[] inputs, Action<DeviceBuffer> backward)
    {
        Op = op;
        Inputs = inputs;
        Backward = backward;
    }

    public string Op { get; }

    public Tensor[] Inputs { get; }

    public Action<DeviceBuffer> Backward { get; }
}
