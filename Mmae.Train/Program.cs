return Mmae.Train.Cli.CommandLine.Run(args);
