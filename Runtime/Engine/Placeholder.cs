namespace EMANet.Engine;
internal static class EngineInfo { }
