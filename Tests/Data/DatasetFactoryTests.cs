using EMANet.Runtime.Data;

namespace EMANet.Tests.Data;

public class DatasetFactoryTests
{
    [Fact]
    public void Synthetic_defaults_and_options()
    {
        var train = Assert.IsType<SyntheticShapesDataset>(DatasetFactory.Parse("synthetic"));
        Assert.Equal((1000, 96, 6, "synthetic-shapes/train"), (train.Count, train.Height, train.Classes, train.Name));
        var val = Assert.IsType<SyntheticShapesDataset>(DatasetFactory.Parse("synthetic",
            new DatasetOptions { Split = "val", Count = 7, Size = 40, Classes = 4, Seed = 9 }));
        Assert.Equal((7, 40, 40, 4, "synthetic-shapes/val"), (val.Count, val.Height, val.Width, val.Classes, val.Name));
    }

    [Fact]
    public void Voc_spec_opens_the_directory()
    {
        using var voc = new VocTree("x");
        var data = DatasetFactory.Parse($"voc:{voc.Devkit}", new DatasetOptions { Split = "val" });
        Assert.Equal("voc/val", data.Name);
        Assert.Equal(1, data.Count);
    }

    [Theory]
    [InlineData("imagenet", "unknown dataset 'imagenet'")]
    [InlineData("voc", "give the VOC directory")]
    [InlineData("synthetic:5", "takes no argument")]
    [InlineData("folder:images=a,masks=b", "'classes=' is required")]
    [InlineData("folder:images=a,masks=b,classes=2,colour=red", "unknown key 'colour'")]
    [InlineData("folder:images", "not key=value")]
    public void Bad_specs_explain_themselves(string spec, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => DatasetFactory.Parse(spec));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Generated_datasets_have_train_and_val_only()
    {
        var error = Assert.Throws<ArgumentException>(() => DatasetFactory.Parse("synthetic", new DatasetOptions { Split = "trainaug" }));
        Assert.Contains("'train' and 'val'", error.Message);
    }
}
