using EMANet.Runtime.Training;

namespace EMANet.Tests.Training;

public class TrainingOptionsTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Defaults_are_the_papers_recipe()
    {
        var o = new TrainingOptions();
        Assert.Equal(30_000, o.Iterations);
        Assert.Equal(16, o.BatchSize);
        Assert.Equal(0.009, o.LearningRate);
        Assert.Equal(0.9, o.Momentum);
        Assert.Equal(1e-4, o.WeightDecay);
        Assert.Equal(2.0, o.BiasLearningRateMultiplier);
        Assert.Equal(0.9, o.PolyPower);
        Assert.Equal(255, o.IgnoreIndex);
        Assert.Equal(0.4, o.AuxiliaryLossWeight);
        Assert.Equal(3e-4, o.BatchNormMomentum);
        Assert.Equal(LossAverage.All, o.LossAverage);
        Assert.Equal("auto", o.Device);
        o.Validate();
    }

    [Fact]
    public void Run_configuration_round_trips_through_json()
    {
        var run = new RunConfiguration
        {
            Network = "emanet-tiny",
            Classes = 21,
            Input = "3x129x129",
            Data = "voc:/data",
            Training = new TrainingOptions { LearningRate = 0.0123, BatchNormMomentum = null, Seed = -5, Device = "cuda:1" },
        };
        var folder = _temp.New("runjson");
        var path = Path.Combine(folder, "run.json");
        run.Save(path);
        var loaded = RunConfiguration.Load(path);
        Assert.Equal(run, loaded with { Training = loaded.Training });
        Assert.Equal(run.Training, loaded.Training);
        Assert.Contains("\"learningRate\": 0.0123", File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Unknown_and_invalid_settings_are_rejected_with_the_source_named()
    {
        var json = new RunConfiguration { Network = "n", Classes = 2, Input = "3x9x9", Training = new TrainingOptions() }.ToJson();
        var typo = json.Replace("\"learningRate\"", "\"learningRat\"");
        var e1 = Assert.Throws<FormatException>(() => RunConfiguration.FromJson(typo, "x.json"));
        Assert.Contains("x.json", e1.Message);
        var invalid = json.Replace("\"iterations\": 30000", "\"iterations\": -3");
        var e2 = Assert.Throws<FormatException>(() => RunConfiguration.FromJson(invalid, "y.json"));
        Assert.Contains("Iterations", e2.Message);
        Assert.Throws<ArgumentException>(() => new TrainingOptions { Device = "tpu" }.Validate());
    }

    [Fact]
    public void Recipe_differences_name_the_settings_that_change_results()
    {
        var a = new TrainingOptions();
        var b = a with { LearningRate = 0.01, Device = "cpu", CheckpointInterval = 5 };
        var differences = b.RecipeDifferences(a);
        Assert.Single(differences);
        Assert.StartsWith("LearningRate", differences[0]);
    }

    [Fact]
    public void Loss_average_is_written_by_name_and_a_configuration_without_it_reads_as_labelled()
    {
        var run = new RunConfiguration { Network = "n", Classes = 2, Input = "3x9x9", Training = new TrainingOptions() };
        var json = run.ToJson();
        Assert.Contains("\"lossAverage\": \"all\"", json);
        Assert.Equal(LossAverage.All, RunConfiguration.FromJson(json).Training.LossAverage);
        var labelled = json.Replace("\"lossAverage\": \"all\"", "\"lossAverage\": \"labelled\"");
        Assert.Equal(LossAverage.Labelled, RunConfiguration.FromJson(labelled).Training.LossAverage);

        // run.json and checkpoints written before the setting existed: the loss was averaged over the labelled pixels.
        var legacy = json.Replace("\"lossAverage\": \"all\",", "");
        Assert.DoesNotContain("lossAverage", legacy);
        Assert.Equal(LossAverage.Labelled, RunConfiguration.FromJson(legacy).Training.LossAverage);

        var bad = json.Replace("\"lossAverage\": \"all\"", "\"lossAverage\": \"mean\"");
        var error = Assert.Throws<FormatException>(() => RunConfiguration.FromJson(bad, "z.json"));
        Assert.Contains("z.json", error.Message);
        Assert.Contains("lossAverage", error.Message);

        Assert.StartsWith("LossAverage", Assert.Single(new TrainingOptions().RecipeDifferences(new TrainingOptions { LossAverage = LossAverage.Labelled })));
    }
}
