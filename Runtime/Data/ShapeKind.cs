namespace EMANet.Runtime.Data;

/// <summary>The shapes of <see cref="SyntheticShapesDataset"/>; shape k has label k + 1 (0 is background).</summary>
public enum ShapeKind
{
    Circle,
    Rectangle,
    Triangle,
    Ring,
    Cross,
    Diamond,
}
