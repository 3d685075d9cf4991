using Mmae.Engine.IO;
using Mmae.Engine.Modules;
using Mmae.Train.Data;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary>The options and loading shared by the commands that read a finished run folder
/// (<c>evaluate</c>, <c>directions</c>, <c>interpolate</c>).</summary>
internal sealed class FinishedRun
{
    private string? _data;
    private string _device = "auto";
    private int _threads;

    /// <summary>--out, or null.</summary>
    public string? Output { get; private set; }

    /// <summary>--threads (0: every core).</summary>
    public int Threads => _threads;

    /// <summary>Adds --data, --out, --threads and --device to <paramref name="t"/>.</summary>
    public OptionTable Add(OptionTable t, string outDefault = "the run folder", string outHelp = "where to write") => t
        .Add("data", "PATH", "the run's data", "data set to use instead of the run's", v => _data = v)
        .Add("out", "PATH", outDefault, outHelp, v => Output = v)
        .Add("threads", "N", "all cores", "CPU threads", v => _threads = OptionTable.Int(v, 1, 1024))
        .Add("device", "NAME", "auto", Devices.Help, v => _device = Devices.Validate(v));

    /// <summary>Opens the run named by the one positional argument: its model on the chosen
    /// device, and its data (the run's own, subset as it was trained, or --data).</summary>
    public (string Run, Autoencoder Model, Dataset Data, DeviceChoice Device, TrainOptions Options) Open(
        OptionTable table)
    {
        if (table.Positionals.Count != 1)
        {
            throw new UsageException("expected one run folder", table.Usage());
        }

        string run = table.Positionals[0];
        string checkpoint = Path.Combine(run, "model.safetensors");
        string config = Path.Combine(run, "config.json");
        if (!Directory.Exists(run))
        {
            throw new CheckpointFormatException($"{run}: no such run folder.");
        }

        if (!File.Exists(checkpoint) || !File.Exists(config))
        {
            throw new CheckpointFormatException(
                $"{run}: not a finished run folder (needs model.safetensors and config.json).");
        }

        TrainOptions o = EvaluateCommand.ReadConfig(config);
        DeviceChoice device = Devices.Create(_device, _threads);
        Autoencoder model = Checkpoint.Load(checkpoint, device.Backend);
        Dataset data = CommandLine.LoadData(_data ?? o.Data, _data is null ? o.DataKind : "auto", o.Arch,
            _data is null ? o.MaxSamples : 0);
        if (data.Dim != model.InputDim)
        {
            throw new InvalidOperationException(
                $"{checkpoint}: the model takes {model.InputDim} features, the data has {data.Dim}.");
        }

        return (run, model, data, device, o);
    }
}
