// Networks declared in the tests use the project's Conv2d (the generator requires it), like Models.
global using Conv2d = EMANet.Runtime.Blocks.Conv2d;
