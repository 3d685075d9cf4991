using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mmae.Engine;
using Mmae.Engine.IO;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;
using Mmae.Train.Data;
using Mmae.Train.Metrics;
using Mmae.Train.Output;
using Mmae.Train.Plots;

namespace Mmae.Train.Training;

/// <summary>Per-epoch means of the losses (Match is the regulariser's, whichever it is),
/// weighted by batch size, and the batches skipped for a NaN or Inf (with
/// <c>--on-nonfinite skip</c>).</summary>
public sealed record EpochLosses(
    int Epoch,
    double Reconstruction,
    double Match,
    double Total,
    double Seconds,
    int Skipped = 0)
{
    /// <summary>Mean KL term of a VAE (0 for an autoencoder).</summary>
    public double Kl { get; init; }

    /// <summary>λ in effect during the epoch, as the step used it (float32, so that logs write
    /// 0.1 rather than its double expansion).</summary>
    public float Lambda { get; init; }
}

/// <summary>What a finished run reports.</summary>
public sealed record RunSummary(
    string Folder,
    IReadOnlyList<EpochLosses> Epochs,
    double ReconstructionMse,
    IReadOnlyList<(int K, double Trustworthiness, double Continuity)> Neighbourhood)
{
    /// <summary>True when a stop signal ended the run early, after saving a checkpoint.</summary>
    public bool Interrupted { get; init; }
}

/// <summary>
/// Trains a DeepAE with L = L_rec + λ·L_mm on a data set and its reference embedding, then
/// evaluates it and writes the run folder.
/// </summary>
/// <remarks>
/// The run saves <c>checkpoint.safetensors</c> before its first step, every
/// <see cref="TrainOptions.CheckpointEvery"/> steps and at the end of every epoch; given that
/// checkpoint as <see cref="Resume"/>, a run continues exactly where it stood: on the CPU
/// backend its weights end bit for bit where an uninterrupted run's do.
/// </remarks>
public sealed class Trainer
{

    // A sample that is itself NaN (kept by --on-nonfinite skip) makes the reconstruction MSE
    // NaN; it is written as the string "NaN" rather than failing the run at its last step.
    private static readonly JsonSerializerOptions s_metricsJson = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
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

    /// <summary>A checkpoint to continue from; null starts a new run from the seed.</summary>
    public TrainingState? Resume { get; init; }

    /// <summary>Checked between steps: once set, the trainer saves a checkpoint and returns
    /// a summary marked <see cref="RunSummary.Interrupted"/>.</summary>
    public StopSignal? Stop { get; init; }

    /// <summary>File operations for checkpoints; null for the real file system.</summary>
    public IFileSystem? FileSystem { get; init; }

    /// <summary>Trains, evaluates and writes everything into <paramref name="folder"/>.</summary>
    /// <exception cref="NonFiniteException">A NaN or Inf appeared and --on-nonfinite is stop;
    /// the last checkpoint is left as it was.</exception>
    /// <exception cref="InvalidOperationException">The resumed checkpoint belongs to other data.</exception>
    /// <exception cref="IOException">A checkpoint could not be written; the previous one is
    /// intact.</exception>
    public RunSummary Run(Dataset data, float[] reference, int refDim, RunFolder folder)
    {
        TrainOptions o = _options;
        int batch = Math.Min(o.Batch, data.Count);
        // A last batch of one sample cannot be batch-normalised; it is dropped for that epoch.
        int steps = data.Count / batch + (data.Count % batch >= 2 ? 1 : 0);
        string fingerprint = TrainingState.Fingerprint(data, reference, refDim);
        TrainingState st = Resume ?? TrainingState.Fresh(o, _backend, data.Count, data.Dim);
        TrainingProgress pos = Resume is null
            ? new TrainingProgress { Fingerprint = fingerprint }
            : CheckResumable(st, fingerprint, data.Count, steps);
        var model = st.Model;
        var adam = st.Adam;
        _log.WriteLine(FormattableString.Invariant(
            $"model: {Architecture.Of(o, data.Dim).Describe()}, {model.ParameterCount():N0} parameters"));

        AtomicFile.Write(folder.File("config.json"), s => JsonSerializer.Serialize(s, o,
            new JsonSerializerOptions { WriteIndented = true }));
        using var jsonl = new StreamWriter(folder.File("log.jsonl"));
        using var csv = new StreamWriter(folder.File("losses.csv"));
        csv.WriteLine("epoch,reconstruction,match,total,seconds,skipped,kl,lambda");

        // The checkpoint is the record: the logs are rewritten from it, so lines written after
        // it by an interrupted run do not appear twice.
        var epochs = new List<EpochLosses>(pos.Epochs);
        epochs.ForEach(el => WriteEpochRecord(csv, jsonl, el));
        if (Resume is not null)
        {
            _log.WriteLine(FormattableString.Invariant(
                $"resuming: epoch {pos.EpochsDone + 1}, step {pos.StepInEpoch}/{steps}, ")
                + FormattableString.Invariant($"{pos.Updates} updates done"));
            jsonl.WriteLine(JsonSerializer.Serialize(new
            {
                kind = "resume",
                epoch = pos.EpochsDone + 1,
                step = pos.StepInEpoch,
                updates = pos.Updates,
            }));
        }

        st.Progress = pos;
        SaveCheckpoint(st, folder);
        MatchDistance distance = o.Distance == "euclidean" ? MatchDistance.Euclidean : MatchDistance.Squared;
        var objective = new Objective(o);
        LambdaSchedule schedule = LambdaSchedule.Parse(o.LambdaSchedule);
        bool skipBad = o.OnNonFinite == "skip";
        var guard = new NonFiniteGuard(model, keepBuffers: skipBad, o.Threads);
        var workspace = new Workspace(_backend);
        var xHost = new float[batch * data.Dim];
        var eHost = new float[batch * refDim];
        int[] order = st.Order;
        for (int epoch = pos.EpochsDone + 1; epoch <= o.Epochs; epoch++)
        {
            if (Stop?.IsRequested == true)
            {
                return Interrupt(st, folder, epochs);
            }

            int firstStep = pos.StepInEpoch;
            if (firstStep == 0)
            {
                st.Rng.Shuffle(order.AsSpan());
            }

            model.Train();
            float lambda = (float)schedule.Lambda(o.Lambda, epoch);
            double sumRec = pos.SumReconstruction, sumMm = pos.SumMatch, sumTot = pos.SumTotal, sumKl = pos.SumKl;
            int seen = pos.Seen, skipped = pos.Skipped;
            double secondsBefore = pos.Seconds;
            var sw = Stopwatch.StartNew();

            // Where the run stands after `done` steps of this epoch, for a checkpoint.
            TrainingProgress Mid(int done) => new()
            {
                EpochsDone = epoch - 1,
                StepInEpoch = done,
                Updates = adam.StepCount,
                SumReconstruction = sumRec,
                SumMatch = sumMm,
                SumTotal = sumTot,
                SumKl = sumKl,
                Seen = seen,
                Seconds = secondsBefore + sw.Elapsed.TotalSeconds,
                Skipped = skipped,
                Epochs = epochs.ToArray(),
                Fingerprint = fingerprint,
            };

            for (int step = firstStep; step < steps; step++)
            {
                long global = (long)(epoch - 1) * steps + step + 1;
                int start = step * batch;
                int p = Math.Min(batch, data.Count - start);

                // The reference rows travel with their samples: both are gathered by one index list.
                for (int r = 0; r < p; r++)
                {
                    int idx = order[start + r];
                    Array.Copy(data.Features, idx * data.Dim, xHost, r * data.Dim, data.Dim);
                    Array.Copy(reference, idx * refDim, eHost, r * refDim, refDim);
                }

                double recV, mmV, klV;
                string? bad;
                using (workspace.Step())
                {
                    Tensor x = Tensor.Input(_backend, xHost.AsSpan(0, p * data.Dim), p, data.Dim);
                    Tensor e = Tensor.Input(_backend, eHost.AsSpan(0, p * refDim), p, refDim);
                    adam.ZeroGrad();
                    guard.SaveBuffers();
                    StepTerms terms = objective.Compute(model, x, e, lambda, st.Noise);
                    terms.Total.Backward();
                    recV = terms.Reconstruction.Item();
                    mmV = terms.Regularizer?.Item() ?? 0;
                    klV = terms.Kl?.Item() ?? 0;

                    // Checked before Adam moves the weights, so a bad batch leaves them untouched.
                    bad = guard.Check(recV + o.Beta * klV, mmV, recV + o.Beta * klV + lambda * mmV);
                    if (bad is null)
                    {
                        adam.Step();
                    }
                    else if (skipBad)
                    {
                        guard.RestoreBuffers();
                    }
                    else
                    {
                        string where = guard.Diagnose(x, e, distance, lambda, bad);
                        throw NonFinite(global, epoch, step, steps, where, st, folder);
                    }
                }

                if (bad is null)
                {
                    sumRec += recV * p;
                    sumMm += mmV * p;
                    sumKl += klV * p;
                    sumTot += (recV + o.Beta * klV + lambda * mmV) * p;
                    seen += p;
                }
                else
                {
                    skipped++;
                    _progress.Clear();
                    _log.WriteLine(FormattableString.Invariant(
                        $"skipped step {global} (epoch {epoch}, batch {step + 1}/{steps}): ")
                        + $"NaN or Inf in {bad}");
                    jsonl.WriteLine(JsonSerializer.Serialize(
                        new { kind = "skip", step = global, epoch, tensor = bad }));
                }

                _progress.Update(epoch, o.Epochs, step + 1, steps, seen > 0 ? sumTot / seen : double.NaN,
                    sw.Elapsed.TotalMilliseconds / (step + 1 - firstStep));
                if (o.CheckpointEvery > 0 && global % o.CheckpointEvery == 0 && step + 1 < steps)
                {
                    st.Progress = Mid(step + 1);
                    SaveCheckpoint(st, folder);
                    _progress.Clear();
                    _log.WriteLine(FormattableString.Invariant(
                        $"checkpoint saved: epoch {epoch}, step {step + 1}/{steps} (global step {global})"));
                }

                // The epoch's last step is followed by its own checkpoint; stop after that one.
                if (Stop?.IsRequested == true && step + 1 < steps)
                {
                    st.Progress = Mid(step + 1);
                    return Interrupt(st, folder, epochs);
                }
            }

            if (seen == 0)
            {
                throw new InvalidOperationException(FormattableString.Invariant(
                    $"every batch of epoch {epoch} held a NaN or Inf and was skipped; the checkpoint in ")
                    + $"{folder.WorkPath} is from before it. Check the data, or start a new run with a lower "
                    + "--lr or --lambda (a resumed run keeps both).");
            }

            var el = new EpochLosses(epoch, sumRec / seen, sumMm / seen, sumTot / seen,
                secondsBefore + sw.Elapsed.TotalSeconds, skipped)
            {
                Kl = sumKl / seen,
                Lambda = lambda,
            };
            if (!double.IsFinite(el.Total))
            {
                throw new InvalidOperationException(FormattableString.Invariant(
                    $"training diverged in epoch {epoch}: loss is {el.Total}. Start a new run with a lower --lr ")
                    + "or --lambda (a resumed run keeps both).");
            }

            epochs.Add(el);
            _progress.Clear();
            _log.WriteLine(FormattableString.Invariant(
                $"epoch {epoch,3}/{o.Epochs} | loss {Loss(el.Total)} | recon {Loss(el.Reconstruction)} | ")
                + (o.Regularizer == "none"
                    ? ""
                    : FormattableString.Invariant($"{o.Regularizer} {el.Match:0.000e+00} | "))
                + (o.Model == "vae" ? FormattableString.Invariant($"kl {el.Kl:F3} | ") : "")
                + FormattableString.Invariant($"{el.Seconds:F1} s")
                + (skipped > 0 ? FormattableString.Invariant($" | skipped {skipped}") : ""));
            WriteEpochRecord(csv, jsonl, el);
            pos = new TrainingProgress
            {
                EpochsDone = epoch,
                Updates = adam.StepCount,
                Epochs = epochs.ToArray(),
                Fingerprint = fingerprint,
            };
            st.Progress = pos;
            SaveCheckpoint(st, folder);
        }

        return Stop?.IsRequested == true
            ? Interrupt(st, folder, epochs)
            : Finish(model, data, folder, epochs, jsonl, adam.StepCount);
    }

    private static void WriteEpochRecord(StreamWriter csv, StreamWriter jsonl, EpochLosses el)
    {
        csv.WriteLine(FormattableString.Invariant(
            $"{el.Epoch},{el.Reconstruction:R},{el.Match:R},{el.Total:R},{el.Seconds:F3},{el.Skipped},")
            + FormattableString.Invariant($"{el.Kl:R},{el.Lambda:R}"));
        jsonl.WriteLine(JsonSerializer.Serialize(new
        {
            kind = "epoch",
            epoch = el.Epoch,
            reconstruction = el.Reconstruction,
            match = el.Match,
            total = el.Total,
            seconds = el.Seconds,
            skipped = el.Skipped,
            kl = el.Kl,
            lambda = el.Lambda,
        }));
        jsonl.Flush();
        csv.Flush();
    }

    // Five decimals, or an exponent where that would print dozens of digits (λ = 1e38).
    internal static string Loss(double v) => Math.Abs(v) < 1e6
        ? v.ToString("F5", CultureInfo.InvariantCulture)
        : v.ToString("0.00000e+00", CultureInfo.InvariantCulture);

    private void SaveCheckpoint(TrainingState st, RunFolder folder) =>
        TrainingCheckpoint.Save(folder.CheckpointPath, st, _options, FileSystem);

    // A resumed checkpoint must come from this data and reference and fit its batch count.
    private TrainingProgress CheckResumable(TrainingState st, string fingerprint, int count, int steps)
    {
        TrainingProgress pos = st.Progress;
        if (pos.Fingerprint != fingerprint || st.Order.Length != count)
        {
            throw new InvalidOperationException(
                "the checkpoint was trained on other data or another reference (fingerprint "
                + $"{pos.Fingerprint[..Math.Min(12, pos.Fingerprint.Length)]}, "
                + $"this data {fingerprint[..12]}); "
                + "resume needs the same --data and --reference files as the run had.");
        }

        if (pos.StepInEpoch > steps || pos.EpochsDone > _options.Epochs)
        {
            throw new InvalidOperationException(FormattableString.Invariant(
                $"the checkpoint stands at epoch {pos.EpochsDone + 1}, step {pos.StepInEpoch}, beyond ")
                + FormattableString.Invariant($"{_options.Epochs} epochs of {steps} steps."));
        }

        return pos;
    }

    private RunSummary Interrupt(TrainingState st, RunFolder folder, List<EpochLosses> epochs)
    {
        SaveCheckpoint(st, folder);
        _progress.Clear();
        TrainingProgress p = st.Progress;
        string where = p.EpochsDone == _options.Epochs
            ? "before the evaluation"
            : FormattableString.Invariant($"at epoch {p.EpochsDone + 1}, step {p.StepInEpoch}");
        _log.WriteLine($"interrupted {where}: checkpoint saved in {folder.WorkPath}; "
            + $"continue with: mmae train --resume {folder.WorkPath}");
        return new RunSummary(folder.FinalPath, epochs, double.NaN, []) { Interrupted = true };
    }

    private static NonFiniteException NonFinite(
        long global,
        int epoch,
        int step,
        int steps,
        string where,
        TrainingState st,
        RunFolder folder)
    {
        TrainingProgress last = st.Progress;
        return new NonFiniteException(FormattableString.Invariant(
            $"NaN or Inf at step {global} (epoch {epoch}, batch {step + 1}/{steps}), first in {where}. ")
            + FormattableString.Invariant(
                $"The last good checkpoint (epoch {last.EpochsDone + 1}, step {last.StepInEpoch}) ")
            + "is kept in "
            + $"{folder.WorkPath}; resume it with --on-nonfinite skip, or start again with a lower --lr.",
            global, where);
    }

    private RunSummary Finish(
        Autoencoder model,
        Dataset data,
        RunFolder folder,
        List<EpochLosses> epochs,
        StreamWriter jsonl,
        long updates)
    {
        var sw = Stopwatch.StartNew();
        (float[] codes, double mse) = Encode(model, data, _backend);
        int evalN = Math.Min(_options.EvalSize, data.Count);

        // A sample that is itself NaN (kept by --on-nonfinite skip) has no place in the figures:
        // it is left out of the evaluation subset and the variance report, and the log says so.
        int[] finite = Enumerable.Range(0, data.Count).Where(i =>
            NonFiniteGuard.FirstNonFinite(data.Features.AsSpan(i * data.Dim, data.Dim)) < 0
            && NonFiniteGuard.FirstNonFinite(codes.AsSpan(i * model.LatentDim, model.LatentDim)) < 0).ToArray();
        int[] subset = Evaluation.Subset(data.Count, evalN).Where(i => finite.Length == data.Count
            || Array.BinarySearch(finite, i) >= 0).ToArray();
        if (finite.Length < data.Count)
        {
            _log.WriteLine($"{data.Count - finite.Length} samples with NaN or Inf in their input or code are left out "
                + "of the quality figures and the latent variance");
        }

        (QualityReport? report, string? note) = Evaluation.Run(data, Evaluation.Rows(data.Features, data.Dim, subset),
            Evaluation.Rows(codes, model.LatentDim, subset), model.LatentDim, null, subset, _options.Threads);
        var hood = report is null
            ? []
            : report.TrustContinuity.Select(t => (t.K, t.Trustworthiness, t.Continuity)).ToList();

        Npy.Write(folder.File("latent.npy"), codes, data.Count, model.LatentDim);
        Npy.Write(folder.File("labels.npy"), data.Labels.Select(l => (float)l).ToArray(), data.Count);
        Checkpoint.Save(folder.File("model.safetensors"), model, _options, updates);
        // How the latent variance spreads over the dimensions: a VAE's tells which dimensions
        // are in use (of the posterior means μ); an autoencoder's is written too, to compare.
        var variance = Reports.LatentVariance.Compute(
            finite.Length == data.Count ? codes : Evaluation.Rows(codes, model.LatentDim, finite),
            finite.Length, model.LatentDim);
        variance.WriteCsv(folder.File("latent-variance.csv"));
        variance.SaveBarChart(folder.File("latent-variance.png"),
            FormattableString.Invariant(
                $"{_options.Model} {_options.Arch}, {_options.Regularizer} lambda {_options.Lambda}, {data.Name}"));
        if (model.LatentDim == 2)
        {
            ScatterPlot.Save(folder.File("latent.png"), codes, data.Labels,
                $"MMAE latent codes, {data.Name}, reference {_options.Reference}");
        }

        var metrics = new Dictionary<string, object>
        {
            ["reconstruction_mse"] = mse,
            ["latent_variance_largest"] = variance.Largest,
            ["latent_variance_total"] = variance.Total,
            ["latent_dims_90pct"] = variance.DimensionsFor90Percent,
            ["eval_samples"] = subset.Length,
            ["final_loss"] = epochs.Count > 0 ? epochs[^1].Total : double.NaN,
            ["seconds_per_epoch"] = epochs.Count > 0 ? epochs.Average(e => e.Seconds) : 0.0,
            ["skipped_batches"] = epochs.Sum(e => e.Skipped),
        };
        foreach ((string name, double value) in report?.Entries() ?? [])
        {
            metrics.TryAdd(name, value);
        }

        File.WriteAllText(folder.File("metrics.json"),
            JsonSerializer.Serialize(metrics, s_metricsJson));
        jsonl.WriteLine(JsonSerializer.Serialize(new { kind = "final", metrics },
            new JsonSerializerOptions(s_metricsJson) { WriteIndented = false }));

        _log.WriteLine(FormattableString.Invariant($"reconstruction MSE (all {data.Count} samples): {mse:F5}"));
        _log.WriteLine(variance.Summary());
        foreach (var (k, t, c) in hood)
        {
            _log.WriteLine(FormattableString.Invariant(
                $"k = {k,3}: trustworthiness {t:F4} | continuity {c:F4}  ({subset.Length} samples)"));
        }

        if (report is not null)
        {
            _log.WriteLine(FormattableString.Invariant(
                $"distance RMSE {report.DistanceRmse:F4} | MRRE@10 ")
                + string.Join(" / ", report.RankErrors.Where(r => r.K == 10)
                    .Select(r => FormattableString.Invariant($"{r.LatentToData:F4}, {r.DataToLatent:F4}")))
                + (report.LinearProbeAccuracy is { } acc
                    ? FormattableString.Invariant($" | linear probe {acc:F3} | k-means ARI {report.KMeansAri:F3}")
                    : "")
                + "  (all figures in metrics.json; `mmae evaluate` prints them)");
        }

        if (note is not null)
        {
            _log.WriteLine(note);
        }

        _log.WriteLine(FormattableString.Invariant($"evaluation took {sw.Elapsed.TotalSeconds:F1} s"));
        return new RunSummary(folder.FinalPath, epochs, mse, hood);
    }

    /// <summary>
    /// Latent codes of every sample (evaluation mode, running statistics) and the mean squared
    /// reconstruction error over the whole data set.
    /// </summary>
    /// <param name="model">The network.</param>
    /// <param name="data">The samples.</param>
    /// <param name="backend">Where to compute.</param>
    /// <param name="reconstructions">When given (Count × Dim), receives every reconstruction.</param>
    public static (float[] Codes, double Mse) Encode(Autoencoder model, Dataset data, IBackend backend,
        float[]? reconstructions = null)
    {
        // About 4 MB of input a chunk: 500 MNIST digits, 244 dSprites images, 16 CelebA faces.
        int chunk = Math.Clamp(1_000_000 / data.Dim, 16, 500);
        model.Eval();
        var codes = new float[data.Count * model.LatentDim];
        double sq = 0;
        var workspace = new Workspace(backend);
        using (Autograd.NoGrad())
        {
            for (int start = 0; start < data.Count; start += chunk)
            {
                using var step = workspace.Step();
                int p = Math.Min(chunk, data.Count - start);
                var xs = data.Features.AsSpan(start * data.Dim, p * data.Dim);
                Tensor x = Tensor.Input(backend, xs, p, data.Dim);
                Tensor z = model.Encode(x).Mean;
                Tensor recon = model.Decode(z);
                z.ToArray().CopyTo(codes, start * model.LatentDim);
                if (reconstructions is not null)
                {
                    recon.ToArray().CopyTo(reconstructions, start * data.Dim);
                }

                sq += Losses.Mse(recon, x).Item() * p * data.Dim;
            }
        }

        model.Train();
        return (codes, sq / ((double)data.Count * data.Dim));
    }
}
