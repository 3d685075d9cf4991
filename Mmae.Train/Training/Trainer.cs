using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;
using Mmae.Train.Data;
using Mmae.Train.Metrics;
using Mmae.Train.Output;
using Mmae.Train.Plots;

namespace Mmae.Train.Training;

/// <summary>Per-epoch means of the three losses, weighted by batch size.</summary>
public sealed record EpochLosses(int Epoch, double Reconstruction, double Match, double Total, double Seconds);

/// <summary>What a finished run reports.</summary>
public sealed record RunSummary(
    string Folder,
    IReadOnlyList<EpochLosses> Epochs,
    double ReconstructionMse,
    IReadOnlyList<(int K, double Trustworthiness, double Continuity)> Neighbourhood);

/// <summary>
/// Trains a DeepAE with L = L_rec + λ·L_mm on a data set and its reference embedding, then
/// evaluates it and writes the run folder.
/// </summary>
public sealed class Trainer
{
    private static readonly int[] s_ks = [5, 10, 25];
    private readonly TrainOptions _options;
    private readonly IBackend _backend;
    private readonly TextWriter _log;
    private readonly ProgressBar _progress;

    /// <summary>A trainer writing its log to <paramref name="log"/>.</summary>
    public Trainer(TrainOptions options, IBackend backend, TextWriter log, ProgressBar progress)
    {
        _options = options;
        _backend = backend;
        _log = log;
        _progress = progress;
    }

    /// <summary>Trains, evaluates and writes everything into <paramref name="folder"/>.</summary>
    public RunSummary Run(Dataset data, float[] reference, int refDim, RunFolder folder)
    {
        TrainOptions o = _options;
        var rng = new Rng((ulong)o.Seed);
        var model = new DeepAutoencoder(_backend, data.Dim, o.Latent, rng, o.Hidden);
        var adam = new Adam(model.Parameters(), new AdamOptions { LearningRate = o.LearningRate });
        _log.WriteLine(FormattableString.Invariant(
            $"model: DeepAE {data.Dim}-{string.Join("-", o.Hidden)}-{o.Latent}, ")
            + FormattableString.Invariant($"{model.ParameterCount():N0} parameters"));

        File.WriteAllText(folder.File("config.json"),
            JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = true }));
        using var jsonl = new StreamWriter(folder.File("log.jsonl"));
        using var csv = new StreamWriter(folder.File("losses.csv"));
        csv.WriteLine("epoch,reconstruction,match,total,seconds");

        var epochs = new List<EpochLosses>();
        MatchDistance distance = o.Distance == "euclidean" ? MatchDistance.Euclidean : MatchDistance.Squared;
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        int batch = Math.Min(o.Batch, data.Count);
        // A last batch of one sample cannot be batch-normalised; it is dropped for that epoch.
        int steps = data.Count / batch + (data.Count % batch >= 2 ? 1 : 0);
        var workspace = new Workspace(_backend);
        var xHost = new float[batch * data.Dim];
        var eHost = new float[batch * refDim];
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            rng.Shuffle(order.AsSpan());
            model.Train();
            double sumRec = 0, sumMm = 0, sumTot = 0;
            int seen = 0;
            var sw = Stopwatch.StartNew();
            for (int step = 0; step < steps; step++)
            {
                int start = step * batch;
                int p = Math.Min(batch, data.Count - start);

                // The reference rows travel with their samples: both are gathered by one index list.
                for (int r = 0; r < p; r++)
                {
                    int idx = order[start + r];
                    Array.Copy(data.Features, idx * data.Dim, xHost, r * data.Dim, data.Dim);
                    Array.Copy(reference, idx * refDim, eHost, r * refDim, refDim);
                }

                double recV, mmV;
                using (workspace.Step())
                {
                    Tensor x = Tensor.Input(_backend, xHost.AsSpan(0, p * data.Dim), p, data.Dim);
                    Tensor e = Tensor.Input(_backend, eHost.AsSpan(0, p * refDim), p, refDim);
                    adam.ZeroGrad();
                    Tensor z = model.Encoder.Forward(x);
                    Tensor recon = model.Decoder.Forward(z);
                    Tensor rec = Losses.Mse(recon, x);
                    Tensor mm = Losses.ManifoldMatch(z, e, distance);
                    Tensor loss = o.Lambda == 0f ? rec : rec + o.Lambda * mm;
                    loss.Backward();
                    adam.Step();
                    recV = rec.Item();
                    mmV = mm.Item();
                }

                sumRec += recV * p;
                sumMm += mmV * p;
                sumTot += (recV + o.Lambda * mmV) * p;
                seen += p;
                _progress.Update(epoch, o.Epochs, step + 1, steps, sumTot / seen,
                    sw.Elapsed.TotalMilliseconds / (step + 1));
            }

            var el = new EpochLosses(epoch, sumRec / seen, sumMm / seen, sumTot / seen, sw.Elapsed.TotalSeconds);
            if (!double.IsFinite(el.Total))
            {
                throw new InvalidOperationException(FormattableString.Invariant(
                    $"training diverged in epoch {epoch}: loss is {el.Total}. Lower --lr or --lambda."));
            }

            epochs.Add(el);
            _progress.Clear();
            _log.WriteLine(FormattableString.Invariant(
                $"epoch {epoch,3}/{o.Epochs} | loss {el.Total:F5} | recon {el.Reconstruction:F5} | ")
                + FormattableString.Invariant($"match {el.Match:0.000e+00} | {el.Seconds:F1} s"));
            csv.WriteLine(FormattableString.Invariant(
                $"{epoch},{el.Reconstruction:R},{el.Match:R},{el.Total:R},{el.Seconds:F3}"));
            jsonl.WriteLine(JsonSerializer.Serialize(new
            {
                kind = "epoch",
                epoch,
                reconstruction = el.Reconstruction,
                match = el.Match,
                total = el.Total,
                seconds = el.Seconds,
            }));
            jsonl.Flush();
            csv.Flush();
        }

        return Finish(model, data, folder, epochs, jsonl);
    }

    private RunSummary Finish(
        DeepAutoencoder model,
        Dataset data,
        RunFolder folder,
        List<EpochLosses> epochs,
        StreamWriter jsonl)
    {
        var sw = Stopwatch.StartNew();
        (float[] codes, double mse) = Encode(model, data, _backend);
        int evalN = Math.Min(_options.EvalSize, data.Count);
        int[] ks = s_ks.Where(k => k < evalN / 2).ToArray();
        var hood = ks.Length == 0
            ? []
            : NeighbourhoodMetrics.Compute(
                data.Features.AsSpan(0, evalN * data.Dim).ToArray(), data.Dim,
                codes.AsSpan(0, evalN * model.LatentDim).ToArray(), model.LatentDim, evalN, ks);

        Npy.Write(folder.File("latent.npy"), codes, data.Count, model.LatentDim);
        Npy.Write(folder.File("labels.npy"), data.Labels.Select(l => (float)l).ToArray(), data.Count);
        Checkpoint.Save(folder.File("model.safetensors"), model, _options);
        if (model.LatentDim == 2)
        {
            ScatterPlot.Save(folder.File("latent.png"), codes, data.Labels,
                $"MMAE latent codes, {data.Name}, reference {_options.Reference}");
        }

        var metrics = new Dictionary<string, object>
        {
            ["reconstruction_mse"] = mse,
            ["eval_samples"] = evalN,
            ["final_loss"] = epochs.Count > 0 ? epochs[^1].Total : double.NaN,
            ["seconds_per_epoch"] = epochs.Count > 0 ? epochs.Average(e => e.Seconds) : 0.0,
        };
        foreach (var (k, t, c) in hood)
        {
            metrics[$"trustworthiness@{k}"] = t;
            metrics[$"continuity@{k}"] = c;
        }

        File.WriteAllText(folder.File("metrics.json"),
            JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true }));
        jsonl.WriteLine(JsonSerializer.Serialize(new { kind = "final", metrics }));

        _log.WriteLine(FormattableString.Invariant($"reconstruction MSE (all {data.Count} samples): {mse:F5}"));
        foreach (var (k, t, c) in hood)
        {
            _log.WriteLine(FormattableString.Invariant(
                $"k = {k,2}: trustworthiness {t:F4} | continuity {c:F4}  ({evalN} samples)"));
        }

        _log.WriteLine(FormattableString.Invariant($"evaluation took {sw.Elapsed.TotalSeconds:F1} s"));
        return new RunSummary(folder.FinalPath, epochs, mse, hood);
    }

    /// <summary>
    /// Latent codes of every sample (evaluation mode, running statistics) and the mean squared
    /// reconstruction error over the whole data set.
    /// </summary>
    public static (float[] Codes, double Mse) Encode(DeepAutoencoder model, Dataset data, IBackend backend)
    {
        const int Chunk = 500;
        model.Eval();
        var codes = new float[data.Count * model.LatentDim];
        double sq = 0;
        var workspace = new Workspace(backend);
        using (Autograd.NoGrad())
        {
            for (int start = 0; start < data.Count; start += Chunk)
            {
                using var step = workspace.Step();
                int p = Math.Min(Chunk, data.Count - start);
                var xs = data.Features.AsSpan(start * data.Dim, p * data.Dim);
                Tensor x = Tensor.Input(backend, xs, p, data.Dim);
                Tensor z = model.Encoder.Forward(x);
                Tensor recon = model.Decoder.Forward(z);
                z.ToArray().CopyTo(codes, start * model.LatentDim);
                sq += Losses.Mse(recon, x).Item() * p * data.Dim;
            }
        }

        model.Train();
        return (codes, sq / ((double)data.Count * data.Dim));
    }
}
