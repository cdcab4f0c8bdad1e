using EMANet.Cli;

namespace EMANet.Tests.Cli;

public class ResumeCommandTests
{
    [Fact]
    public void The_resume_command_repeats_the_arguments_replaces_an_earlier_resume_and_quotes_for_the_shell()
    {
        string[] args = ["emanet-tiny", "--data", "folder:images=/my data/img,masks=/m", "--out", "runs/it's", "--resume", "old.ckpt", "--lr=0.01", "--resume=older.ckpt"];
        var command = ResumeCommand.Format(args, "runs/it's/checkpoint.ckpt");
        Assert.Equal("emanet train emanet-tiny --data 'folder:images=/my data/img,masks=/m' --out 'runs/it'\\''s' --lr=0.01 --resume 'runs/it'\\''s/checkpoint.ckpt'", command);
        Assert.Equal(["emanet", "train", "emanet-tiny", "--data", "folder:images=/my data/img,masks=/m", "--out", "runs/it's", "--lr=0.01", "--resume", "runs/it's/checkpoint.ckpt"],
            CliProcess.SplitCommandLine(command));
    }
}
