using Mmae.Engine;
using Mmae.Engine.Modules;

namespace Mmae.Train.Training;

/// <summary>The parts of one step's loss, each a one-element tensor on the device.</summary>
/// <param name="Total">L = L_rec + β·KL + λ·L_reg, the tensor the step differentiates.</param>
/// <param name="Reconstruction">L_rec.</param>
/// <param name="Regularizer">L_reg (L_mm, GRAE's or TopoAE's loss), unweighted; null for none.</param>
/// <param name="Kl">A VAE's KL term, unweighted; null for an autoencoder.</param>
public sealed record StepTerms(Tensor Total, Tensor Reconstruction, Tensor? Regularizer, Tensor? Kl);

/// <summary>
/// What a training step minimises, as the run's options define it: the reconstruction loss,
/// a VAE's β-weighted KL term, and the λ-weighted regulariser on the codes (the posterior means
/// μ of a VAE).
/// </summary>
public sealed class Objective
{
    private readonly TrainOptions _o;
    private readonly MatchDistance _distance;

    /// <summary>The objective of a run with options <paramref name="o"/>.</summary>
    /// <exception cref="ArgumentException">The reconstruction loss does not suit the model
    /// (binary cross-entropy needs a VAE's Tanh decoder; mean squared error is for
    /// autoencoders).</exception>
    public Objective(TrainOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        string? why = Problem(o);
        if (why is not null)
        {
            throw new ArgumentException(why, nameof(o));
        }

        _o = o;
        _distance = o.Distance == "euclidean" ? MatchDistance.Euclidean : MatchDistance.Squared;
    }

    /// <summary>Whether a regulariser term is computed at all.</summary>
    public bool HasRegularizer => _o.Regularizer != "none";

    /// <summary>Forward pass of one batch: x (p, d) with its reference rows e (p, l).</summary>
    /// <param name="model">The network.</param>
    /// <param name="x">Input batch.</param>
    /// <param name="e">Reference rows of the batch.</param>
    /// <param name="lambda">λ for this epoch.</param>
    /// <param name="noise">The generator of a VAE's latent noise.</param>
    public StepTerms Compute(Autoencoder model, Tensor x, Tensor e, float lambda, Rng noise)
    {
        ArgumentNullException.ThrowIfNull(model);
        Tensor rec, code;
        Tensor? kl = null;
        if (model is Vae vae)
        {
            VaeLoss parts = vae.Loss(x, noise, _o.ResolvedRecon == "bce"
                ? ReconstructionLoss.BinaryCrossEntropy
                : ReconstructionLoss.SquaredError);
            (rec, kl, code) = (parts.Reconstruction, parts.Kl, parts.Mu);
        }
        else
        {
            code = model.Encode(x).Mean;
            Tensor recon = model.Decode(code);
            rec = _o.ResolvedRecon == "sse" ? Losses.SumSquaredError(recon, x) : Losses.Mse(recon, x);
        }

        Tensor? reg = HasRegularizer ? Regularizer(x, code, e) : null;
        Tensor total = kl is null || _o.Beta == 0f ? rec : rec + _o.Beta * kl;
        if (reg is not null && lambda != 0f)
        {
            total += lambda * reg;
        }

        return new StepTerms(total, rec, reg, kl);
    }

    /// <summary>Why the options' loss cannot be built, naming the option, or null.</summary>
    public static string? Problem(TrainOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return (o.Model, o.ResolvedRecon) switch
        {
            ("ae", "bce") => "option --recon bce: needs --model vae (it is computed from the VAE decoder's "
                + "pre-Tanh output); use sse or mse for an autoencoder",
            ("vae", "mse") => "option --recon mse: a VAE's likelihood is a per-image sum; use sse or bce",
            _ => null,
        };
    }

    private Tensor Regularizer(Tensor x, Tensor code, Tensor e) => _o.Regularizer switch
    {
        "mm" => Losses.ManifoldMatch(code, e, _distance),
        "grae" => Losses.Geometric(code, e),
        "topo" => Losses.Topological(x, code),
        _ => throw new InvalidOperationException($"regulariser '{_o.Regularizer}' is not available"),
    };
}
