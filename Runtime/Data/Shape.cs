namespace EMANet.Runtime.Data;

/// <summary>
/// One randomly drawn shape: centre, radius, rotation and the proportions of its kind. Coverage is tested
/// in the shape's own frame, where the shape fits the unit disc (corners of rectangles up to radius 1.42).
/// </summary>
internal sealed class Shape
{
    public const double BoundingRadius = 1.45;

    private readonly double _cos, _sin;
    private readonly double _proportion; // rectangle/diamond aspect, ring inner radius, cross arm half-width
    private readonly (double X, double Y)[] _triangle = [];

    public Shape(ShapeKind kind, double centerX, double centerY, double radius, double angle, SeededRandom random)
    {
        Kind = kind;
        CenterX = centerX;
        CenterY = centerY;
        Radius = radius;
        _cos = Math.Cos(angle);
        _sin = Math.Sin(angle);
        switch (kind)
        {
            case ShapeKind.Rectangle:
                _proportion = random.NextDouble(0.5, 0.9);
                break;
            case ShapeKind.Diamond:
                _proportion = random.NextDouble(0.45, 0.7);
                break;
            case ShapeKind.Ring:
                _proportion = random.NextDouble(0.45, 0.65);
                break;
            case ShapeKind.Cross:
                _proportion = random.NextDouble(0.25, 0.38);
                break;
            case ShapeKind.Triangle:
                _triangle = new (double, double)[3];
                for (var k = 0; k < 3; k++)
                {
                    var a = Math.PI / 2 + k * 2 * Math.PI / 3 + random.NextDouble(-0.25, 0.25);
                    var r = random.NextDouble(0.85, 1.15);
                    _triangle[k] = (r * Math.Cos(a), r * Math.Sin(a));
                }
                break;
        }
    }

    public ShapeKind Kind { get; }
    public double CenterX { get; }
    public double CenterY { get; }
    public double Radius { get; }

    /// <summary>Position of image point (x, y) in the shape's frame: rotated, scaled to unit radius.</summary>
    public (double U, double V) ToLocal(double x, double y)
    {
        var dx = (x - CenterX) / Radius;
        var dy = (y - CenterY) / Radius;
        return (_cos * dx + _sin * dy, -_sin * dx + _cos * dy);
    }

    public bool Covers(double u, double v)
    {
        switch (Kind)
        {
            case ShapeKind.Circle:
                return u * u + v * v <= 1;
            case ShapeKind.Rectangle:
                return Math.Abs(u) <= 1 && Math.Abs(v) <= _proportion;
            case ShapeKind.Diamond:
                return Math.Abs(u) + Math.Abs(v) / _proportion <= 1;
            case ShapeKind.Ring:
                var rr = u * u + v * v;
                return rr <= 1 && rr >= _proportion * _proportion;
            case ShapeKind.Cross:
                var (au, av) = (Math.Abs(u), Math.Abs(v));
                return (au <= 1 && av <= _proportion) || (au <= _proportion && av <= 1);
            case ShapeKind.Triangle:
                var s0 = Side(_triangle[0], _triangle[1], u, v);
                var s1 = Side(_triangle[1], _triangle[2], u, v);
                var s2 = Side(_triangle[2], _triangle[0], u, v);
                return (s0 >= 0 && s1 >= 0 && s2 >= 0) || (s0 <= 0 && s1 <= 0 && s2 <= 0);
            default:
                throw new InvalidOperationException($"unknown shape {Kind}");
        }
    }

    private static double Side((double X, double Y) a, (double X, double Y) b, double u, double v) =>
        (b.X - a.X) * (v - a.Y) - (b.Y - a.Y) * (u - a.X);
}
