using System.Buffers.Binary;
using System.Text;
using Op = EMANet.Runtime.IO.PickleOpcodes;

namespace EMANet.Runtime.IO;

/// <summary>
/// A pickle reader for PyTorch state dicts that never executes anything. It implements the
/// opcodes of protocols 2 to 5 that a state dict uses, builds plain values (<see cref="PyDict"/>,
/// <see cref="PyList"/>, <see cref="PyTuple"/>, numbers, strings), and interprets the few allowed
/// globals (<see cref="PickleGlobals"/>) by name: OrderedDict() makes a dict, _rebuild_tensor_v2
/// makes a <see cref="TensorRef"/>, storages come from persistent ids as <see cref="StorageRef"/>s.
/// Any other global becomes an inert <see cref="PyPlaceholder"/> that records its name and absorbs
/// what is applied to it (REDUCE, NEWOBJ, NEWOBJ_EX, BUILD, APPEND(S), SETITEM(S); arguments are
/// dropped), so that a checkpoint's metadata (numpy scalars and arrays, a framework's own objects)
/// can be skipped; <see cref="StateDictSelector"/> refuses a placeholder inside the state dict.
/// Sets, frozensets and bytearrays (protocol 4 and 5 opcodes) become placeholders of builtins.set,
/// builtins.frozenset and builtins.bytearray. An allowed global used in an unexpected way, any other
/// opcode or shape of data is a <see cref="WeightsFormatException"/>.
/// Every length is checked against the remaining input before use; the work is linear in the input.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private const int MaxGlobalNameLength = 256;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private readonly byte[] _data;
    private readonly string _file;
    private readonly string _part;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private readonly Dictionary<string, StorageRef> _storages = new(StringComparer.Ordinal);
    private int _pos;
    private int _opStart;

    private RestrictedUnpickler(byte[] data, string file, string part)
    {
        _data = data;
        _file = file;
        _part = part;
    }

    /// <summary>The storages the pickle referred to, by key.</summary>
    public IReadOnlyDictionary<string, StorageRef> Storages => _storages;

    /// <summary>Unpickles <paramref name="data"/>; <paramref name="file"/> and <paramref name="part"/> (the zip entry) name it in errors.</summary>
    public static (object? Value, IReadOnlyDictionary<string, StorageRef> Storages) Load(byte[] data, string file, string part)
    {
        var unpickler = new RestrictedUnpickler(data, file, part);
        return (unpickler.Run(), unpickler.Storages);
    }

    private WeightsFormatException Defect(string what) =>
        new(_file, $"{_part}: {what} (opcode at byte {_opStart})");

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length)
            {
                _opStart = _pos;
                throw Defect("the pickle ends without a STOP opcode");
            }
            _opStart = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case Op.Proto:
                    int protocol = ReadByte();
                    if (protocol is < 2 or > 5) throw Defect($"unsupported pickle protocol {protocol} (2 to 5 are supported)");
                    break;
                case Op.Frame:
                    ulong frame = ReadUInt64();
                    if (frame > (ulong)(_data.Length - _pos)) throw Defect($"FRAME of {frame} bytes runs past the end of the pickle");
                    break;
                case Op.Stop:
                    if (_marks.Count != 0) throw Defect("STOP inside an unclosed MARK");
                    if (_stack.Count != 1) throw Defect($"STOP with {_stack.Count} values on the stack instead of 1");
                    return _stack[0];

                case Op.Mark: _marks.Add(_stack.Count); break;
                case Op.Pop: PopValue(); break;
                case Op.PopMark: PopToMark(); break;
                case Op.Dup: Push(Peek()); break;

                case Op.None: Push(null); break;
                case Op.NewTrue: Push(true); break;
                case Op.NewFalse: Push(false); break;
                case Op.BinInt: Push((long)ReadInt32()); break;
                case Op.BinInt1: Push((long)ReadByte()); break;
                case Op.BinInt2: Push((long)ReadUInt16()); break;
                case Op.Long1: Push(ReadLong(ReadByte())); break;
                case Op.Long4:
                    int longLength = ReadInt32();
                    if (longLength < 0) throw Defect($"LONG4 with negative length {longLength}");
                    Push(ReadLong(longLength));
                    break;
                case Op.BinFloat: Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;

                case Op.ShortBinUnicode: Push(ReadUtf8(ReadByte())); break;
                case Op.BinUnicode: Push(ReadUtf8(ReadUInt32())); break;
                case Op.BinUnicode8: Push(ReadUtf8(ReadUInt64())); break;
                case Op.ShortBinString: Push(Encoding.Latin1.GetString(Take(ReadByte()))); break;
                case Op.BinString:
                    int stringLength = ReadInt32();
                    if (stringLength < 0) throw Defect($"BINSTRING with negative length {stringLength}");
                    Push(Encoding.Latin1.GetString(Take(stringLength)));
                    break;
                case Op.ShortBinBytes: Push(Take(ReadByte()).ToArray()); break;
                case Op.BinBytes: Push(Take(ReadLength(ReadUInt32())).ToArray()); break;
                case Op.BinBytes8: Push(Take(ReadLength(ReadUInt64())).ToArray()); break;

                case Op.EmptyDict: Push(new PyDict()); break;
                case Op.EmptyList: Push(new PyList()); break;
                case Op.EmptyTuple: Push(new PyTuple(Array.Empty<object?>())); break;
                case Op.Tuple: Push(new PyTuple(PopToMark())); break;
                case Op.Tuple1: Push(new PyTuple(PopValues(1))); break;
                case Op.Tuple2: Push(new PyTuple(PopValues(2))); break;
                case Op.Tuple3: Push(new PyTuple(PopValues(3))); break;
                case Op.List:
                    var list = new PyList();
                    list.AddRange(PopToMark());
                    Push(list);
                    break;
                case Op.Dict:
                    var dict = new PyDict();
                    SetItems(dict, PopToMark());
                    Push(dict);
                    break;

                case Op.SetItem:
                    var value = PopValue();
                    var key = PopValue();
                    if (PeekTarget<PyDict>("SETITEM") is { } setItemTarget) SetItems(setItemTarget, new[] { key, value });
                    break;
                case Op.SetItems:
                    var pairs = PopToMark();
                    if (PeekTarget<PyDict>("SETITEMS") is { } setItemsTarget) SetItems(setItemsTarget, pairs);
                    break;
                case Op.Append:
                    var item = PopValue();
                    PeekTarget<PyList>("APPEND")?.Add(item);
                    break;
                case Op.Appends:
                    var items = PopToMark();
                    PeekTarget<PyList>("APPENDS")?.AddRange(items);
                    break;

                case Op.EmptySet: Push(new PyPlaceholder("builtins.set", PlaceholderOrigin.Object)); break;
                case Op.AddItems:
                    PopToMark();
                    PeekTarget<PyPlaceholder>("ADDITEMS");
                    break;
                case Op.FrozenSet:
                    PopToMark();
                    Push(new PyPlaceholder("builtins.frozenset", PlaceholderOrigin.Object));
                    break;
                case Op.ByteArray8:
                    Take(ReadLength(ReadUInt64()));
                    Push(new PyPlaceholder("builtins.bytearray", PlaceholderOrigin.Object));
                    break;

                case Op.BinPut: _memo[ReadByte()] = Peek(); break;
                case Op.LongBinPut: _memo[ReadUInt32()] = Peek(); break;
                case Op.Memoize: _memo[_memo.Count] = Peek(); break;
                case Op.BinGet: Push(MemoGet(ReadByte())); break;
                case Op.LongBinGet: Push(MemoGet(ReadUInt32())); break;

                case Op.Global:
                    string module = ReadLine("GLOBAL module");
                    string name = ReadLine("GLOBAL name");
                    Push(ResolveGlobal(module, name));
                    break;
                case Op.StackGlobal:
                    var globalName = PopValue();
                    var globalModule = PopValue();
                    if (globalModule is not string m || globalName is not string n) throw Defect("STACK_GLOBAL on values that are not strings");
                    Push(ResolveGlobal(m, n));
                    break;
                case Op.Reduce:
                    var args = PopValue();
                    var callable = PopValue();
                    if (callable is PyPlaceholder called) { Push(new PyPlaceholder(called.Global, PlaceholderOrigin.Object)); break; }
                    if (callable is not PyGlobal function) throw Defect($"REDUCE calls {Describe(callable)}, not a global");
                    if (args is not PyTuple tuple) throw Defect($"REDUCE of {function} with {Describe(args)} instead of an argument tuple");
                    Push(Call(function, tuple));
                    break;
                case Op.NewObj:
                    var newArgs = PopValue();
                    var cls = PopValue();
                    if (cls is PyPlaceholder newClass) { Push(new PyPlaceholder(newClass.Global, PlaceholderOrigin.Object)); break; }
                    if (cls is not PyGlobal { FullName: PickleGlobals.OrderedDict } || newArgs is not PyTuple { Count: 0 })
                        throw Defect($"NEWOBJ of {Describe(cls)} is not supported (only collections.OrderedDict())");
                    Push(new PyDict());
                    break;
                case Op.NewObjEx:
                    PopValues(2); // args, kwargs
                    var exClass = PopValue();
                    if (exClass is not PyPlaceholder newExClass) throw Defect($"NEWOBJ_EX of {Describe(exClass)} is not supported");
                    Push(new PyPlaceholder(newExClass.Global, PlaceholderOrigin.Object));
                    break;
                case Op.Build:
                    var state = PopValue();
                    if (Peek() is not PyPlaceholder) Build(state, Peek());
                    break;
                case Op.BinPersId:
                    Push(PersistentLoad(PopValue()));
                    break;

                default:
                    throw Defect($"unsupported pickle opcode 0x{op:X2}{(op is >= 0x20 and < 0x7f ? $" ('{(char)op}')" : "")}");
            }
        }
    }

    // ------------------------------------------------------------------ globals and calls

    /// <summary>An allowed global as a <see cref="PyGlobal"/>; any other as a placeholder (nothing is imported).</summary>
    private static object ResolveGlobal(string module, string name) =>
        PickleGlobals.IsAllowed(module, name) ? new PyGlobal(module, name) : new PyPlaceholder($"{module}.{name}", PlaceholderOrigin.Global);

    private object? Call(PyGlobal function, PyTuple args)
    {
        switch (function.FullName)
        {
            case PickleGlobals.OrderedDict:
                var dict = new PyDict();
                if (args.Count == 0) return dict;
                if (args.Count == 1 && args[0] is PyList pairs)
                {
                    foreach (var pair in pairs)
                    {
                        if (pair is not PyTuple { Count: 2 } kv) throw Defect("OrderedDict(...) with an item that is not a (key, value) pair");
                        SetItems(dict, kv.Items);
                    }
                    return dict;
                }
                throw Defect($"OrderedDict called with {args.Count} unsupported arguments");

            case PickleGlobals.RebuildTensorV2:
                return RebuildTensor(args);

            case PickleGlobals.RebuildParameter:
                if (args.Count == 3 && args[0] is PyPlaceholder { Origin: PlaceholderOrigin.Tensor } unsupported) return unsupported;
                if (args.Count != 3 || args[0] is not TensorRef data || args[1] is not bool || args[2] is not PyDict)
                    throw Defect("_rebuild_parameter expects (tensor, requires_grad, backward_hooks)");
                return data;

            case PickleGlobals.Device:
                if (args.Count is 1 or 2 && args[0] is string type && (args.Count == 1 || args[1] is long))
                    return args.Count == 1 ? type : $"{type}:{args[1]}";
                throw Defect("torch.device expects (type[, index])");

            default:
                throw Defect($"global '{function}' cannot be called");
        }
    }

    /// <summary>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
    private object RebuildTensor(PyTuple args)
    {
        if (args.Count is not (6 or 7)) throw Defect($"_rebuild_tensor_v2 with {args.Count} arguments instead of 6 or 7");
        if (args[0] is PyPlaceholder { Origin: PlaceholderOrigin.Tensor } unsupported) return unsupported;
        if (args[0] is not StorageRef storage) throw Defect($"_rebuild_tensor_v2: argument 1 is {Describe(args[0])}, not a storage");
        if (args[1] is not long offset || offset < 0) throw Defect($"_rebuild_tensor_v2: storage offset {Describe(args[1])} is not a non-negative integer");
        var size = Dimensions(args[2], "size");
        var stride = Dimensions(args[3], "stride");
        if (size.Length != stride.Length) throw Defect($"_rebuild_tensor_v2: size has {size.Length} dimensions but stride has {stride.Length}");
        if (args[4] is not bool) throw Defect("_rebuild_tensor_v2: requires_grad is not a bool");
        if (args[5] is not PyDict { Count: 0 }) throw Defect("_rebuild_tensor_v2: backward_hooks is not an empty dict");
        return new TensorRef(storage, offset, size, stride);
    }

    private long[] Dimensions(object? value, string what)
    {
        if (value is not PyTuple tuple) throw Defect($"_rebuild_tensor_v2: {what} is {Describe(value)}, not a tuple");
        var result = new long[tuple.Count];
        for (int i = 0; i < result.Length; i++)
        {
            if (tuple[i] is not long d || d < 0) throw Defect($"_rebuild_tensor_v2: {what}[{i}] = {Describe(tuple[i])} is not a non-negative integer");
            result[i] = d;
        }
        return result;
    }

    /// <summary>
    /// A persistent id ('storage', torch.XStorage, key, location, numel) names a storage record of the
    /// archive. A storage type outside the allow-list (torch.ComplexFloatStorage, ...) gives a tensor
    /// placeholder: skipped outside the state dict, refused inside it.
    /// </summary>
    private object PersistentLoad(object? pid)
    {
        if (pid is not PyTuple { Count: 5 } t || t[0] is not "storage")
            throw Defect($"persistent id {Describe(pid)} is not ('storage', type, key, location, numel)");
        if (t[1] is PyPlaceholder { Origin: PlaceholderOrigin.Global } unsupportedType)
            return new PyPlaceholder(unsupportedType.Global, PlaceholderOrigin.Tensor);
        if (t[1] is not PyGlobal type || !PickleGlobals.IsStorageType(type.Module, type.Name) || !ElementTypes.TryFromStorageName(type.Name, out var dtype))
            throw Defect($"persistent id names storage type {Describe(t[1])}");
        if (t[2] is not string key || key.Length is 0 or > 64 || !key.All(char.IsAsciiLetterOrDigit))
            throw Defect($"persistent id has storage key {Describe(t[2])}, not a short alphanumeric string");
        if (t[3] is not string location) throw Defect($"storage '{key}': location {Describe(t[3])} is not a string");
        if (t[4] is not long numel || numel < 0) throw Defect($"storage '{key}': element count {Describe(t[4])} is not a non-negative integer");

        var storage = new StorageRef(dtype, key, location, numel);
        if (_storages.TryGetValue(key, out var known))
        {
            if (known.Type != storage.Type || known.Elements != storage.Elements)
                throw Defect($"storage '{key}' is declared as {known.Type} x {known.Elements} and as {storage.Type} x {storage.Elements}");
            return known;
        }
        _storages[key] = storage;
        return storage;
    }

    private void Build(object? state, object? target)
    {
        // An OrderedDict pickles its instance __dict__ (a state dict's _metadata) as BUILD state.
        if (target is not PyDict dict) throw Defect($"BUILD on {Describe(target)} is not supported");
        switch (state)
        {
            case null:
                return;
            case PyDict attributes:
                dict.Attributes = attributes;
                return;
            case PyTuple { Count: 2 } pair when pair[0] is null or PyDict && pair[1] is null or PyDict:
                dict.Attributes = pair[0] as PyDict;
                return;
            default:
                throw Defect($"BUILD of a dict with state {Describe(state)}");
        }
    }

    private void SetItems(PyDict dict, IReadOnlyList<object?> keysAndValues)
    {
        if (keysAndValues.Count % 2 != 0) throw Defect("SETITEMS with an odd number of values");
        for (int i = 0; i < keysAndValues.Count; i += 2)
        {
            if (!PyDict.IsValidKey(keysAndValues[i])) throw Defect($"dict key {Describe(keysAndValues[i])} is not hashable");
            dict.Set(keysAndValues[i], keysAndValues[i + 1]);
        }
    }

    // ------------------------------------------------------------------ stack and memo

    private void Push(object? value) => _stack.Add(value);

    private int Floor => _marks.Count == 0 ? 0 : _marks[^1];

    private object? Peek()
    {
        if (_stack.Count <= Floor) throw Defect("stack underflow");
        return _stack[^1];
    }

    /// <summary>The target of a mutating opcode: a <typeparamref name="T"/>, or null for a placeholder, which absorbs it.</summary>
    private T? PeekTarget<T>(string op) where T : class => Peek() switch
    {
        T target => target,
        PyPlaceholder => null,
        var other => throw Defect($"{op} on {Describe(other)}"),
    };

    private object? PopValue()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object?[] PopValues(int count)
    {
        if (_stack.Count - Floor < count) throw Defect("stack underflow");
        var values = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return values;
    }

    private object?[] PopToMark()
    {
        if (_marks.Count == 0) throw Defect("no MARK to pop to");
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var values = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return values;
    }

    private object? MemoGet(long index) =>
        _memo.TryGetValue(index, out var value) ? value : throw Defect($"memo entry {index} was never stored");

    // ------------------------------------------------------------------ reading the input

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || count > _data.Length - _pos) throw Defect($"the pickle ends inside an argument ({count} bytes needed, {_data.Length - _pos} left)");
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private long ReadLength(ulong count) =>
        count > (ulong)(_data.Length - _pos) ? throw Defect($"length {count} runs past the end of the pickle") : (long)count;

    private byte ReadByte() => Take(1)[0];
    private ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    private int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>A little-endian two's-complement integer of <paramref name="length"/> bytes (at most 8).</summary>
    private long ReadLong(int length)
    {
        if (length > 8) throw Defect($"integer of {length} bytes does not fit 64 bits");
        var bytes = Take(length);
        if (length == 0) return 0;
        long value = 0;
        for (int i = length - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        if (length < 8 && (bytes[length - 1] & 0x80) != 0) value -= 1L << (8 * length);
        return value;
    }

    private string ReadUtf8(ulong length)
    {
        var bytes = Take(ReadLength(length));
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Defect("a string is not valid UTF-8");
        }
    }

    /// <summary>A GLOBAL argument: printable ASCII up to a newline.</summary>
    private string ReadLine(string what)
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(_data.Length - _pos, MaxGlobalNameLength + 1));
        if (end < 0) throw Defect($"{what} is not a line of at most {MaxGlobalNameLength} characters");
        var bytes = _data.AsSpan(_pos, end - _pos);
        foreach (var b in bytes)
            if (b is < 0x20 or > 0x7e) throw Defect($"{what} holds a non-printable byte 0x{b:X2}");
        _pos = end + 1;
        return Encoding.ASCII.GetString(bytes);
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"'{(s.Length > 40 ? s[..40] + "..." : s)}'",
        long or double or bool => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
        byte[] b => $"bytes of length {b.Length}",
        PyGlobal g => g.FullName,
        PyPlaceholder p => p.Description,
        PyTuple t => $"a tuple of {t.Count}",
        PyList l => $"a list of {l.Count}",
        PyDict d => $"a dict of {d.Count}",
        TensorRef => "a tensor",
        StorageRef s => $"storage '{s.Key}'",
        _ => value.GetType().Name,
    };
}
