using System.Reflection;
using EMANet.Engine;
using EMANet.Runtime.Blocks;

namespace EMANet.Tests.Engine;

/// <summary>
/// The generated constructors omit every argument equal to <see cref="BlockConstructors"/>' default: those defaults must be
/// the blocks' own, or a generated network would silently build another block than its declaration says.
/// </summary>
public class BlockConstructorsTests
{
    public static IEnumerable<object[]> Tables() => new[]
    {
        new object[] { typeof(ResNet), nameof(BlockConstructors.ResNet) },
        new object[] { typeof(ConvBlock), nameof(BlockConstructors.ConvBlock) },
        new object[] { typeof(Conv2d), nameof(BlockConstructors.Conv2d) },
        new object[] { typeof(EmaUnit), nameof(BlockConstructors.EmaUnit) },
        new object[] { typeof(Aspp), nameof(BlockConstructors.Aspp) },
        new object[] { typeof(BilinearUpsample), nameof(BlockConstructors.BilinearUpsample) },
    };

    private static IReadOnlyList<BlockArgument> Table(string name) =>
        (IReadOnlyList<BlockArgument>)typeof(BlockConstructors).GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(Tables))]
    public void Every_default_is_the_block_constructors_default(Type block, string table)
    {
        var parameters = block.GetConstructors().Single().GetParameters();
        var arguments = Table(table);
        int previous = -1;
        foreach (var argument in arguments)
        {
            var parameter = parameters.SingleOrDefault(p => p.Name == argument.Name);
            Assert.True(parameter is not null, $"{block.Name} has no parameter '{argument.Name}'");
            Assert.True(parameter!.HasDefaultValue, $"{block.Name}.{argument.Name} has no default");
            Assert.True(parameter.Position > previous, $"{block.Name}.{argument.Name} is out of parameter order");
            previous = parameter.Position;
            if (argument.Default is EquatableArray<int> array)
            {
                // An array parameter defaults to null and the block substitutes the array (checked by building both below);
                // an empty table default (stemWidths) means "not written": the block's own choice for null.
                Assert.Null(parameter.DefaultValue);
                Assert.Equal(typeof(int[]), parameter.ParameterType);
            }
            else
            {
                Assert.Equal(argument.Default.GetType(), parameter.ParameterType);
                Assert.Equal(argument.Default, parameter.DefaultValue);
            }
        }
    }

    [Fact]
    public void The_array_defaults_are_what_the_blocks_substitute_for_null()
    {
        var multiGrid = (EquatableArray<int>)BlockConstructors.ResNet.Single(a => a.Name == "multiGrid").Default;
        using (var omitted = new ResNet(50, outputStride: 8, widthMultiplier: 0.125))
        using (var given = new ResNet(50, outputStride: 8, widthMultiplier: 0.125, multiGrid: multiGrid.ToArray()))
            Assert.Equal(given.Plan.Stages[3].Blocks.Select(b => b.Dilation), omitted.Plan.Stages[3].Blocks.Select(b => b.Dilation));

        var rates = (EquatableArray<int>)BlockConstructors.Aspp.Single(a => a.Name == "rates").Default;
        using var aspp = new Aspp(8, outChannels: 4);
        var dilations = aspp.named_modules().Select(m => m.module).OfType<Conv2d>().Select(c => c.dilation[0]).Where(d => d > 1).ToArray();
        Assert.Equal(rates.Select(r => (long)r), dilations);
    }
}
