global using EMANet.Runtime.Blocks;
global using TorchSharp.Modules;
