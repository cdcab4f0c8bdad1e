namespace EMANet.Runtime.IO;

/// <summary>How the names of a checkpoint relate to this project's parameter names.</summary>
public enum WeightsLayout
{
    /// <summary>Decide from the keys (see <see cref="KeyMapping.Detect"/>).</summary>
    Auto,

    /// <summary>This project's own names: keys are used as they are.</summary>
    Native,

    /// <summary>
    /// A torchvision ResNet checkpoint (7x7 stem: conv1, bn1, layer1.0.conv1, ...) for a network's
    /// backbone: keys get the backbone prefix, the classifier (fc.*) is dropped.
    /// </summary>
    TorchVisionResNet,

    /// <summary>
    /// The EMANet authors' deep-stem ResNet checkpoint (conv1.0, conv1.1, conv1.3, conv1.4, conv1.6, bn1,
    /// layer1.0.conv1, ...) for a network's backbone: keys get the backbone prefix, fc.* is dropped.
    /// </summary>
    DeepStemResNet,

    /// <summary>
    /// An mmsegmentation (MMSegmentation 0.x/1.x) segmentor: <c>backbone.stem.N</c> (ResNetV1c's deep stem),
    /// <c>backbone.layerN</c>, <c>decode_head.*</c>, <c>auxiliary_head.*</c>, for a network whose fields carry
    /// mmseg's module names (<c>mmseg-emanet-r50-d8</c>); see <see cref="MMSegKeys"/>.
    /// </summary>
    MMSeg,

    /// <summary>
    /// The EMANet authors' release (XiaLiPKU/EMANet, network.py): the backbone as the Sequential <c>extractor</c>,
    /// the head as <c>fc0</c>, <c>emau</c>, <c>fc1.0</c>, <c>fc2</c>, for <c>emanet-r50/r101/r152</c>; see <see cref="AuthorsKeys"/>.
    /// </summary>
    Authors,
}
