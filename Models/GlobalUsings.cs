global using EMANet.Runtime.Blocks;
global using TorchSharp.Modules;
// The project's Conv2d (same keys as TorchSharp's; reads the mixed-precision setting) over TorchSharp.Modules.Conv2d.
global using Conv2d = EMANet.Runtime.Blocks.Conv2d;
