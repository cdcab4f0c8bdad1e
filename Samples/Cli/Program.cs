Console.WriteLine("emanet");
