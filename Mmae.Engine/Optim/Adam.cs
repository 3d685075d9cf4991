using Mmae.Kernels;

namespace Mmae.Engine.Optim;

/// <summary>Updates parameters from their gradients.</summary>
public abstract class Optimizer
{
    /// <summary>Parameters in a fixed order.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters) => Parameters = parameters.ToList();

    /// <summary>The parameters this optimizer updates.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>Sets every gradient to zero, keeping the buffers (no allocation per step).</summary>
    public void ZeroGrad()
    {
        foreach (Tensor p in Parameters)
        {
            if (p.Grad is not null)
            {
                p.Backend.Fill(p.Grad, 0f);
            }
        }
    }

    /// <summary>Applies one update.</summary>
    public abstract void Step();
}

/// <summary>Options of <see cref="Adam"/>, with PyTorch's defaults.</summary>
public sealed record AdamOptions
{
    /// <summary>Step size.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Decay of the first-moment average.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Decay of the second-moment average.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Added to the root of the second moment.</summary>
    public float Eps { get; init; } = 1e-8f;
}

/// <summary>Adam (Kingma &amp; Ba) with bias correction, as torch.optim.Adam without weight decay.</summary>
/// <remarks>Limitation: no weight decay or AMSGrad; the method's experiments use neither.</remarks>
public sealed class Adam : Optimizer
{
    private readonly DeviceBuffer[] _m;
    private readonly DeviceBuffer[] _v;

    /// <summary>An optimizer with zeroed moment estimates.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its valid range.</exception>
    public Adam(IEnumerable<Tensor> parameters, AdamOptions? options = null)
        : base(parameters)
    {
        Options = options ?? new AdamOptions();
        if (!(Options.LearningRate > 0) || !float.IsFinite(Options.LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Adam: learning rate must be positive and finite.");
        }

        if (!(Options.Beta1 >= 0 && Options.Beta1 < 1 && Options.Beta2 >= 0 && Options.Beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Adam: betas must lie in [0, 1).");
        }

        _m = Parameters.Select(p => p.Backend.Allocate(p.Length)).ToArray();
        _v = Parameters.Select(p => p.Backend.Allocate(p.Length)).ToArray();
    }

    /// <summary>Hyper-parameters.</summary>
    public AdamOptions Options { get; }

    /// <summary>Number of updates applied so far.</summary>
    public long StepCount { get; set; }

    /// <summary>First-moment buffers, one per parameter (for checkpoints).</summary>
    public IReadOnlyList<DeviceBuffer> FirstMoments => _m;

    /// <summary>Second-moment buffers, one per parameter (for checkpoints).</summary>
    public IReadOnlyList<DeviceBuffer> SecondMoments => _v;

    /// <inheritdoc/>
    public override void Step()
    {
        StepCount++;
        float c1 = (float)(1 - Math.Pow(Options.Beta1, StepCount));
        float c2 = (float)(1 - Math.Pow(Options.Beta2, StepCount));
        for (int i = 0; i < Parameters.Count; i++)
        {
            Tensor p = Parameters[i];
            if (p.Grad is null)
            {
                continue;
            }

            p.Backend.AdamStep(p.Data, p.Grad, _m[i], _v[i], Options.LearningRate,
                Options.Beta1, Options.Beta2, Options.Eps, c1, c2);
        }
    }
}
