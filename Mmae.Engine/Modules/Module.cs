using Mmae.Kernels;

namespace Mmae.Engine.Modules;

/// <summary>A layer or a network: a forward function with named parameters and buffers.</summary>
public abstract class Module
{
    /// <summary>Whether the module is in training mode (batch statistics, dropout active).</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Computes the output for a batch.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Direct children with their names (PyTorch's state_dict prefixes).</summary>
    public virtual IEnumerable<(string Name, Module Child)> Children() => [];

    /// <summary>This module's own trainable tensors (not its children's).</summary>
    protected virtual IEnumerable<(string Name, Tensor Tensor)> OwnParameters() => [];

    /// <summary>This module's own non-trainable state, such as running statistics.</summary>
    protected virtual IEnumerable<(string Name, Tensor Tensor)> OwnBuffers() => [];

    /// <summary>Every trainable tensor, named as PyTorch's state_dict names it.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters(string prefix = "")
    {
        foreach ((string name, Tensor t) in OwnParameters())
        {
            yield return (prefix + name, t);
        }

        foreach ((string name, Module child) in Children())
        {
            foreach (var item in child.NamedParameters(prefix + name + "."))
            {
                yield return item;
            }
        }
    }

    /// <summary>Every parameter and buffer, named as PyTorch's state_dict names them.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateDict(string prefix = "")
    {
        foreach ((string name, Tensor t) in OwnParameters())
        {
            yield return (prefix + name, t);
        }

        foreach ((string name, Tensor t) in OwnBuffers())
        {
            yield return (prefix + name, t);
        }

        foreach ((string name, Module child) in Children())
        {
            foreach (var item in child.StateDict(prefix + name + "."))
            {
                yield return item;
            }
        }
    }

    /// <summary>This module and every descendant with its dotted path ("" for this one), parents
    /// before children.</summary>
    public IEnumerable<(string Path, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach ((string name, Module child) in Children())
        {
            foreach (var item in child.NamedModules(prefix.Length == 0 ? name : prefix + "." + name))
            {
                yield return item;
            }
        }
    }

    /// <summary>Trainable tensors in a fixed order.</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor).ToList();

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Length);

    /// <summary>Switches this module and its children to training mode.</summary>
    public void Train() => SetMode(true);

    /// <summary>Switches this module and its children to evaluation mode.</summary>
    public void Eval() => SetMode(false);

    private void SetMode(bool training)
    {
        Training = training;
        foreach ((_, Module child) in Children())
        {
            child.SetMode(training);
        }
    }
}
