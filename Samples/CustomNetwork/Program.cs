Console.WriteLine("custom");
