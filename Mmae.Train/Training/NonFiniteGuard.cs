using System.Globalization;
using System.Numerics;
using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Kernels;

namespace Mmae.Train.Training;

/// <summary>A NaN or Inf appeared in a training step; the message says where.</summary>
public sealed class NonFiniteException : InvalidOperationException
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public NonFiniteException(string message, long step, string tensor)
        : base(message)
    {
        Step = step;
        Tensor = tensor;
    }

    /// <summary>The global step (1-based) whose batch produced the value.</summary>
    public long Step { get; }

    /// <summary>The tensor that first held it, with its layer.</summary>
    public string Tensor { get; }
}

/// <summary>
/// Watches each training step for NaN and Inf: in the two losses and in every parameter
/// gradient, after the backward pass and before Adam touches the weights, so a bad batch
/// changes nothing that a checkpoint holds. On request it also saves and restores the
/// batch-norm running statistics, which the forward pass of a bad batch may already have
/// spoiled, so that batch can be skipped as if it never ran.
/// </summary>
public sealed class NonFiniteGuard
{
    private readonly Autoencoder _model;
    private readonly List<(string Name, Tensor Tensor)> _parameters;
    private readonly List<(Tensor Live, DeviceBuffer Saved)> _buffers = [];
    private readonly float[] _scratch;
    private readonly int[] _hits;
    private readonly ParallelOptions _parallel;

    /// <summary>A guard for <paramref name="model"/>; <paramref name="keepBuffers"/> enables
    /// <see cref="SaveBuffers"/> and <see cref="RestoreBuffers"/>.</summary>
    /// <param name="model">The network whose gradients are checked.</param>
    /// <param name="keepBuffers">Whether batch-norm statistics are saved before each step.</param>
    /// <param name="threads">Threads that scan host gradients; 0 for every core.</param>
    public NonFiniteGuard(Autoencoder model, bool keepBuffers, int threads = 0)
    {
        _model = model;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : -1 };
        _parameters = model.NamedParameters().ToList();
        var isParameter = new HashSet<Tensor>(
            _parameters.Select(p => p.Tensor), ReferenceEqualityComparer.Instance);
        if (keepBuffers)
        {
            foreach ((_, Tensor t) in model.StateDict().Where(s => !isParameter.Contains(s.Tensor)))
            {
                _buffers.Add((t, t.Backend.Allocate(t.Length)));
            }
        }

        _scratch = new float[_parameters.Max(p => p.Tensor.Length)];
        _hits = new int[_parameters.Count];
    }

    /// <summary>Copies the running statistics aside (before a step's forward pass).</summary>
    public void SaveBuffers()
    {
        foreach ((Tensor live, DeviceBuffer saved) in _buffers)
        {
            live.Backend.Copy(live.Data, saved);
        }
    }

    /// <summary>Puts back the running statistics saved by <see cref="SaveBuffers"/>.</summary>
    public void RestoreBuffers()
    {
        foreach ((Tensor live, DeviceBuffer saved) in _buffers)
        {
            live.Backend.Copy(saved, live.Data);
        }
    }

    /// <summary>
    /// Null when both losses and every parameter gradient are finite; otherwise the first
    /// tensor found holding a NaN or Inf (losses first, then gradients in backward order).
    /// </summary>
    public string? Check(double reconstruction, double match, double total)
    {
        string? loss = LossName(reconstruction, match, total);
        if (loss is not null)
        {
            return loss;
        }

        // One read of every gradient: host memory is scanned in place, one tensor per thread
        // (the scan is bound by memory bandwidth); device memory is copied out one at a time.
        bool onHost = _parameters.All(p => p.Tensor.Grad is null or FloatBuffer or DoubleBuffer);
        if (onHost)
        {
            Parallel.For(0, _parameters.Count, _parallel,
                i => _hits[i] = FirstNonFinite(_parameters[i].Tensor.Grad));
        }
        else
        {
            for (int i = 0; i < _parameters.Count; i++)
            {
                _hits[i] = FirstNonFinite(_parameters[i].Tensor.Grad);
            }
        }

        for (int i = _parameters.Count - 1; i >= 0; i--)
        {
            if (_hits[i] >= 0)
            {
                (string name, Tensor t) = _parameters[i];
                float[] host = new float[t.Length];
                t.Backend.Download(t.Grad!, host);
                return $"gradient of {name} (layer {LayerOf(name)}), element {_hits[i]} = "
                    + host[_hits[i]].ToString(CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>
    /// Runs the step's forward pass again layer by layer (batch statistics, no graph) and
    /// returns the first tensor holding a NaN or Inf: the input batch, a layer's output, or a
    /// loss. Returns <paramref name="fallback"/> when the forward pass is finite throughout,
    /// that is when only the backward pass went wrong.
    /// </summary>
    public string Diagnose(Tensor x, Tensor e, MatchDistance distance, float lambda, string fallback)
    {
        using (Autograd.NoGrad())
        {
            string? bad = FirstBad(x, "the input batch") ?? FirstBad(e, "the reference rows of the batch");
            if (bad is not null)
            {
                return bad;
            }

            Tensor z, recon;
            if (_model is DeepAutoencoder deep)
            {
                z = x;
                string? inEncoder = Through(deep.Encoder, "encoder", ref z);
                if (inEncoder is not null)
                {
                    return inEncoder;
                }

                recon = z;
                string? inDecoder = Through(deep.Decoder, "decoder", ref recon);
                if (inDecoder is not null)
                {
                    return inDecoder;
                }
            }
            else
            {
                // Other networks are checked at their two ends only.
                LatentEncoding enc = _model.Encode(x);
                z = enc.Mean;
                string? inCode = FirstBad(z, "the latent codes")
                    ?? (enc.LogVar is null ? null : FirstBad(enc.LogVar, "the posterior log-variances"));
                if (inCode is not null)
                {
                    return inCode;
                }

                recon = _model.Decode(z);
                string? inRecon = FirstBad(recon, "the reconstructions");
                if (inRecon is not null)
                {
                    return inRecon;
                }
            }

            double rec = Losses.Mse(recon, x).Item();
            double mm = Losses.ManifoldMatch(z, e, distance).Item();
            return LossName(rec, mm, rec + lambda * mm) ?? fallback;
        }
    }

    // Index of the first NaN or ±Inf in a gradient (−1 when none, or no gradient yet).
    private int FirstNonFinite(DeviceBuffer? buffer) => buffer switch
    {
        null => -1,
        FloatBuffer f => FirstNonFinite(f.Data),
        DoubleBuffer d => Array.FindIndex(d.Data, v => !double.IsFinite(v)),
        _ => DownloadAndScan(buffer),
    };

    private int DownloadAndScan(DeviceBuffer buffer)
    {
        buffer.Backend.Download(buffer, _scratch.AsSpan(0, buffer.Length));
        return FirstNonFinite(_scratch.AsSpan(0, buffer.Length));
    }

    /// <summary>Index of the first NaN or ±Inf in <paramref name="x"/>, or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> x)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // v − v is 0 for a finite v and NaN for NaN and ±Inf: one compare per vector.
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(x[i..]);
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero))
                {
                    break;
                }
            }
        }

        for (; i < x.Length; i++)
        {
            if (!float.IsFinite(x[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static string? LossName(double reconstruction, double match, double total) =>
        !double.IsFinite(reconstruction) ? $"the reconstruction loss (L_rec = {Format(reconstruction)})"
        : !double.IsFinite(match) ? $"the manifold-matching loss (L_mm = {Format(match)})"
        : !double.IsFinite(total) ? $"the total loss (L = {Format(total)}, overflow of lambda * L_mm)"
        : null;

    private string? Through(Sequential chain, string prefix, ref Tensor h)
    {
        for (int i = 0; i < chain.Layers.Count; i++)
        {
            h = chain.Layers[i].Forward(h);
            string layer = $"{prefix}.{i.ToString(CultureInfo.InvariantCulture)}";
            string? bad = FirstBad(h, $"the output of layer {layer} ({chain.Layers[i].GetType().Name})");
            if (bad is not null)
            {
                return bad;
            }
        }

        return null;
    }

    private string? FirstBad(Tensor t, string what)
    {
        float[] host = t.ToArray();
        int at = FirstNonFinite(host);
        return at < 0
            ? null
            : $"{what}, row {at / t.Cols}, column {at % t.Cols} = "
                + host[at].ToString(CultureInfo.InvariantCulture);
    }

    // "decoder.6.weight" → "decoder.6 (Linear)".
    private string LayerOf(string parameter)
    {
        int dot = parameter.LastIndexOf('.');
        string path = dot < 0 ? "" : parameter[..dot];
        Module? owner = _model.NamedModules().FirstOrDefault(n => n.Path == path).Module;
        return owner is null ? parameter : $"{path} ({owner.GetType().Name})";
    }

    private static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);
}
