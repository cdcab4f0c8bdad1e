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
}
