namespace EMANet.Models;
