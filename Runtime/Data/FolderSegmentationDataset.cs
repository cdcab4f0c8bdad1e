using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

/// <summary>
/// Images and PNG masks in folders (see <see cref="FolderDatasetSpec"/>); masks keep their palette indices
/// or grey values as labels. Opening checks that every listed file exists. Each <see cref="Get"/> decodes and
/// checks its sample: an unreadable image or mask, a mask whose size differs from the image's, or a label
/// outside [0, Classes) other than 255 throws an <see cref="InvalidSampleException"/> naming the file.
/// With <c>skipInvalid</c>, opening decodes and checks every sample instead (in parallel; this reads the
/// whole dataset once), leaves the bad ones out, reports each through <c>warn</c> and keeps them in
/// <see cref="Skipped"/>.
/// </summary>
public sealed class FolderSegmentationDataset : ISegmentationDataset
{
    private readonly SampleFiles[] _samples;

    private sealed record SampleFiles(string Id, string ImagePath, string MaskPath, string Origin);

    public FolderSegmentationDataset(FolderDatasetSpec spec, bool skipInvalid = false, Action<string>? warn = null)
    {
        if (spec.Classes is < 1 or > 255)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.Classes, "a folder dataset needs 1 to 255 classes (255 is the ignore label)");
        if (spec.ClassNames is not null && spec.ClassNames.Count != spec.Classes)
            throw new ArgumentException($"{spec.ClassNames.Count} class names given for {spec.Classes} classes", nameof(spec));
        Spec = spec;
        Name = spec.Name;
        Classes = spec.Classes;
        ClassNames = spec.ClassNames?.ToArray() ?? Enumerable.Range(0, spec.Classes).Select(c => $"class{c}").ToArray();
        warn ??= Console.Error.WriteLine;

        var listed = ListSamples(spec);
        if (listed.Count == 0)
            throw new DatasetException($"{spec.ListFile ?? spec.ImageDirectory}: no samples found for dataset '{spec.Name}'" +
                (spec.ListFile is null ? $" (no *{spec.ImageExtension} files)" : " (the list is empty)"));

        if (skipInvalid)
        {
            var problems = new string?[listed.Count];
            Parallel.For(0, listed.Count, i =>
            {
                try
                {
                    Load(listed[i]);
                }
                catch (DatasetException e)
                {
                    problems[i] = e.Message;
                }
            });
            var kept = new List<SampleFiles>();
            var skipped = new List<SkippedSample>();
            for (var i = 0; i < listed.Count; i++)
            {
                if (problems[i] is null)
                    kept.Add(listed[i]);
                else
                {
                    skipped.Add(new SkippedSample(listed[i].Id, problems[i]!));
                    warn($"warning: skipping {problems[i]}");
                }
            }
            if (skipped.Count > 0)
                warn($"warning: skipped {skipped.Count} of {listed.Count} samples of {Name}");
            if (kept.Count == 0)
                throw new DatasetException($"{spec.ListFile ?? spec.ImageDirectory}: all {listed.Count} samples of '{Name}' are invalid (first: {skipped[0].Reason})");
            _samples = [.. kept];
            Skipped = skipped;
        }
        else
        {
            foreach (var sample in listed)
                RequireFiles(sample);
            _samples = [.. listed];
            Skipped = [];
        }
    }

    public FolderDatasetSpec Spec { get; }
    public string Name { get; }
    public int Count => _samples.Length;
    public int Classes { get; }
    public string[] ClassNames { get; }

    /// <summary>Samples left out when opened with skipping; empty otherwise.</summary>
    public IReadOnlyList<SkippedSample> Skipped { get; }

    public SegmentationSample Get(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {Count} samples");
        return Load(_samples[index]);
    }

    private static void RequireFiles(SampleFiles files)
    {
        if (!File.Exists(files.ImagePath))
            throw new InvalidSampleException(files.Id, files.ImagePath, $"image file is missing (listed by {files.Origin})");
        if (!File.Exists(files.MaskPath))
            throw new InvalidSampleException(files.Id, files.MaskPath, $"mask file is missing (listed by {files.Origin})");
    }

    private SegmentationSample Load(SampleFiles files)
    {
        RequireFiles(files);
        RgbImage image;
        LabelMask mask;
        try
        {
            image = ImageFile.ReadRgb(files.ImagePath);
        }
        catch (ImageFileException e)
        {
            throw new InvalidSampleException(files.Id, files.ImagePath, e.Problem, e);
        }
        try
        {
            mask = MaskFile.Read(files.MaskPath);
        }
        catch (ImageFileException e)
        {
            throw new InvalidSampleException(files.Id, files.MaskPath, e.Problem, e);
        }
        if (mask.Height != image.Height || mask.Width != image.Width)
            throw new InvalidSampleException(files.Id, files.MaskPath,
                $"mask is {mask.Width}x{mask.Height} but its image {files.ImagePath} is {image.Width}x{image.Height}");
        var labels = mask.Labels;
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= Classes && labels[i] != LabelMask.Ignore)
                throw new InvalidSampleException(files.Id, files.MaskPath,
                    $"label {labels[i]} at ({i % mask.Width},{i / mask.Width}) is outside [0, {Classes}) and is not 255 (ignore)");
        }
        return new SegmentationSample(files.Id, files.ImagePath, image, mask);
    }

    private static List<SampleFiles> ListSamples(FolderDatasetSpec spec)
    {
        if (!Directory.Exists(spec.ImageDirectory))
            throw new DatasetException($"{spec.ImageDirectory}: image directory of dataset '{spec.Name}' does not exist");
        if (!Directory.Exists(spec.MaskDirectory))
            throw new DatasetException($"{spec.MaskDirectory}: mask directory of dataset '{spec.Name}' does not exist");

        var samples = new List<SampleFiles>();
        if (spec.ListFile is null)
        {
            var origin = $"the listing of {spec.ImageDirectory}";
            var images = Directory.EnumerateFiles(spec.ImageDirectory, "*" + spec.ImageExtension)
                .Where(p => p.EndsWith(spec.ImageExtension, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal);
            foreach (var image in images)
            {
                var id = Path.GetFileNameWithoutExtension(image);
                samples.Add(new SampleFiles(id, image, Path.Combine(spec.MaskDirectory, id + spec.MaskExtension), origin));
            }
            return samples;
        }

        if (!File.Exists(spec.ListFile))
            throw new DatasetException($"{spec.ListFile}: list file of dataset '{spec.Name}' does not exist");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(spec.ListFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"{spec.ListFile}: cannot read the list file ({e.Message})", e);
        }
        var root = spec.ListRoot ?? Path.GetDirectoryName(Path.GetFullPath(spec.ImageDirectory)) ?? ".";
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var origin = $"{spec.ListFile} line {n + 1}";
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            switch (fields.Length)
            {
                case 1:
                    samples.Add(new SampleFiles(fields[0],
                        Path.Combine(spec.ImageDirectory, fields[0] + spec.ImageExtension),
                        Path.Combine(spec.MaskDirectory, fields[0] + spec.MaskExtension), origin));
                    break;
                case 2:
                    var image = Path.Combine(root, fields[0].TrimStart('/'));
                    samples.Add(new SampleFiles(Path.GetFileNameWithoutExtension(image), image, Path.Combine(root, fields[1].TrimStart('/')), origin));
                    break;
                default:
                    throw new DatasetException($"{origin}: expected a sample id or 'image mask' paths, found {fields.Length} fields: '{line}'");
            }
        }
        return samples;
    }
}
