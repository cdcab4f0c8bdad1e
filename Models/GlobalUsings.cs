global using EMANet.Runtime.Blocks;
global using TorchSharp.Modules;
// The project's Conv2d (TorchSharp's keys, plus the mixed-precision setting) and BatchNorm2d (TorchSharp's keys, no temporary
// Scalars; README.md, "TorchSharp Scalars") over TorchSharp.Modules' types of the same names.
global using Conv2d = EMANet.Runtime.Blocks.Conv2d;
global using BatchNorm2d = EMANet.Runtime.Blocks.BatchNorm2d;
