using EMANet.Runtime.Data;
using EMANet.Runtime.Imaging;
using EMANet.Tests.Imaging;

namespace EMANet.Tests.Data;

public class FolderDatasetTests
{
    [Fact]
    public void Voc_layout_reads_images_and_palette_indices()
    {
        using var voc = new VocTree("2007_000032", "2007_000039");
        foreach (var root in new[] { voc.Root, voc.Devkit })
        {
            var train = VocDataset.Open(root, "train");
            Assert.Equal("voc/train", train.Name);
            Assert.Equal(2, train.Count);
            Assert.Equal(21, train.Classes);
            Assert.Equal("person", train.ClassNames[15]);
            var sample = train.Get(1);
            Assert.Equal("2007_000039", sample.Id);
            Assert.Equal(voc.Image("2007_000039"), sample.Source);
            Assert.Equal(16, sample.Width);
            Assert.Equal(VocTree.MaskFor("2007_000039").Labels, sample.Label.Labels);
            Assert.InRange(sample.Image[4, 4].R, 190, 210); // top-left quadrant of the JPEG is (200, 30, 40)
        }
        Assert.Equal(1, VocDataset.Open(voc.Root, "val").Count);
    }

    [Fact]
    public void Trainaug_uses_grey_aug_masks_and_two_column_lists()
    {
        using var voc = new VocTree("a1", "b22");
        var aug = Path.Combine(voc.Root, "SegmentationClassAug");
        Directory.CreateDirectory(aug);
        PngWriter.WriteGrey(Path.Combine(aug, "a1.png"), VocTree.MaskFor("x"));
        PngWriter.WriteGrey(Path.Combine(aug, "b22.png"), VocTree.MaskFor("yy"));
        File.WriteAllLines(Path.Combine(voc.Root, "ImageSets", "Segmentation", "train_aug.txt"),
            ["/JPEGImages/b22.jpg /SegmentationClassAug/b22.png", "", "# comment", "/JPEGImages/a1.jpg /SegmentationClassAug/a1.png"]);
        var data = VocDataset.Open(voc.Root, "trainaug");
        Assert.Equal(2, data.Count);
        Assert.Equal("b22", data.Get(0).Id);
        Assert.Equal(VocTree.MaskFor("yy").Labels, data.Get(0).Label.Labels);
        Assert.Equal(VocTree.MaskFor("x").Labels, data.Get(1).Label.Labels);
    }

    [Fact]
    public void Missing_split_names_the_list_and_the_splits_there()
    {
        using var voc = new VocTree("a");
        var error = Assert.Throws<DatasetException>(() => VocDataset.Open(voc.Root, "trainaug"));
        Assert.Contains(voc.List("trainaug"), error.Message);
        Assert.Contains("splits found: train, val", error.Message);
        Assert.Contains("not a VOC directory", Assert.Throws<DatasetException>(() => VocDataset.Open(voc.Devkit + "/nothing")).Message);
    }

    [Fact]
    public void Missing_mask_fails_at_open_naming_the_file_and_list_line()
    {
        using var voc = new VocTree("a", "b");
        File.Delete(voc.Mask("b"));
        var error = Assert.Throws<InvalidSampleException>(() => VocDataset.Open(voc.Root));
        Assert.Equal(voc.Mask("b"), error.FilePath);
        Assert.StartsWith(voc.Mask("b") + ": mask file is missing", error.Message);
        Assert.Contains("train.txt line 2", error.Message);
    }

    [Fact]
    public void Defective_samples_fail_on_get_naming_the_file()
    {
        using var voc = new VocTree("good", "size", "label", "broken", "notpng");
        PngWriter.WriteIndexed(voc.Mask("size"), VocTree.MaskFor("size", 16, 15));
        var badLabel = VocTree.MaskFor("label");
        badLabel[3, 5] = 30;
        PngWriter.WriteIndexed(voc.Mask("label"), badLabel);
        File.WriteAllBytes(voc.Image("broken"), [0xFF, 0xD8, 0xFF, 0xE0, 0, 0]);
        File.WriteAllText(voc.Mask("notpng"), "not a png");
        var data = VocDataset.Open(voc.Root);

        data.Get(0);
        var size = Assert.Throws<InvalidSampleException>(() => data.Get(1));
        Assert.Equal(voc.Mask("size"), size.FilePath);
        Assert.Contains("mask is 15x16 but its image", size.Message);
        var label = Assert.Throws<InvalidSampleException>(() => data.Get(2));
        Assert.Equal(voc.Mask("label"), label.FilePath);
        Assert.Contains("label 30 at (5,3) is outside [0, 21)", label.Message);
        var broken = Assert.Throws<InvalidSampleException>(() => data.Get(3));
        Assert.Equal(voc.Image("broken"), broken.FilePath);
        Assert.Contains("cannot decode the image", broken.Message);
        var notPng = Assert.Throws<InvalidSampleException>(() => data.Get(4));
        Assert.StartsWith(voc.Mask("notpng") + ": not a PNG file", notPng.Message);
    }

    [Fact]
    public void Skipping_leaves_bad_samples_out_with_warnings_and_a_count()
    {
        using var voc = new VocTree("a", "b", "c");
        var bad = VocTree.MaskFor("b");
        bad[0, 1] = 99;
        PngWriter.WriteIndexed(voc.Mask("b"), bad);
        File.Delete(voc.Image("c"));
        var warnings = new List<string>();
        var data = VocDataset.Open(voc.Root, skipInvalid: true, warn: warnings.Add);

        Assert.Equal(1, data.Count);
        Assert.Equal("a", data.Get(0).Id);
        Assert.Equal(["b", "c"], data.Skipped.Select(s => s.Id));
        Assert.Contains(warnings, w => w.Contains(voc.Mask("b")) && w.Contains("label 99"));
        Assert.Contains(warnings, w => w.Contains(voc.Image("c")) && w.Contains("missing"));
        Assert.Contains("skipped 2 of 3 samples of voc/train", warnings.Last());
    }

    [Fact]
    public void Generic_folders_without_a_list_pair_files_by_name()
    {
        using var dir = new TempDirectory();
        var images = dir.Combine("img");
        var masks = dir.Combine("ann");
        for (var i = 0; i < 3; i++)
        {
            var image = new RgbImage(5, 4);
            image[1, 1] = new Rgb((byte)(10 * i), 2, 3);
            PngWriter.WriteRgb(Path.Combine(images, $"s{i}.png"), image);
            PngWriter.WriteGrey(Path.Combine(masks, $"s{i}.png"), new LabelMask(5, 4, Enumerable.Repeat((byte)i, 20).ToArray()));
        }
        File.WriteAllText(Path.Combine(images, "notes.txt"), "not an image");

        var data = DatasetFactory.Parse($"folder:images={images},masks={masks},classes=3,image-ext=png,names=bg|one|two");
        Assert.Equal(3, data.Count);
        Assert.Equal(["bg", "one", "two"], data.ClassNames);
        var sample = data.Get(2);
        Assert.Equal("s2", sample.Id);
        Assert.Equal(new Rgb(20, 2, 3), sample.Image[1, 1]);
        Assert.All(sample.Label.Labels, l => Assert.Equal(2, l));
    }
}
