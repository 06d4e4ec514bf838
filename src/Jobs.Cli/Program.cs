using Jobs.Cli;

return await JobsCommand.RunAsync(args, Console.Out, Console.Error);
