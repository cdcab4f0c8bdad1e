#!/usr/bin/env python3
"""Writes the PNG/JPEG fixtures of Tests/Imaging with an encoder independent of the C# one.

PNGs are built here from zlib and struct only (rows filtered with all five filter types in turn, data
split over several IDAT chunks, an ancillary tEXt chunk); the JPEG comes from libjpeg-turbo's cjpeg
(apt-get install libjpeg-turbo-progs). The tests recompute the expected pixel values with the same
formulas, so keep them in step with PngFixtureTests.cs / ImageFileTests.cs.
Run from this directory: python3 make_fixtures.py
"""
import struct
import subprocess
import zlib


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, row, above, bpp):
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = above[i]
        c = above[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((x - pred) & 0xFF)
    return bytes([kind]) + bytes(out)


def pack(values, depth):
    """Packs sample values of `depth` bits into bytes, most significant bits first."""
    if depth == 8:
        return bytes(values)
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in values)
    out, acc, bits = bytearray(), 0, 0
    for v in values:
        acc = (acc << depth) | v
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def png(width, height, depth, color_type, rows, palette=None, interlace=0, idat_pieces=3, text=True):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    bpp = max(1, channels * depth // 8)
    raw = bytearray()
    above = bytes(len(rows[0]))
    for y, row in enumerate(rows):
        raw += filter_row(y % 5, row, above, bpp)
        above = row
    data = zlib.compress(bytes(raw), 9)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace))
    if text:
        out += chunk(b"tEXt", b"Comment\x00made by make_fixtures.py")
    if palette is not None:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    step = max(1, -(-len(data) // idat_pieces))
    for start in range(0, len(data), step):
        out += chunk(b"IDAT", data[start:start + step])
    out += chunk(b"IEND", b"")
    return out


def voc_color(i):
    r = g = b = 0
    bit = 7
    while i:
        r |= (i & 1) << bit
        g |= ((i >> 1) & 1) << bit
        b |= ((i >> 2) & 1) << bit
        bit -= 1
        i >>= 3
    return (r, g, b)


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def indexed(name, width, height, depth, value, palette_size):
    palette = [((i * 3) % 256, (255 - i) % 256, (i * 7) % 256) for i in range(palette_size)]
    rows = [pack([value(x, y) for x in range(width)], depth) for y in range(height)]
    write(name, png(width, height, depth, 3, rows, palette))


# Palette masks: value formulas mirrored in PngFixtureTests.
indexed("palette8.png", 7, 5, 8, lambda x, y: 255 if (x, y) == (0, 0) else (x * 37 + y * 11) % 256, 256)
indexed("palette4.png", 9, 3, 4, lambda x, y: (x + 2 * y) % 16, 16)
indexed("palette2.png", 5, 3, 2, lambda x, y: (x * y + x) % 4, 4)
indexed("palette1.png", 11, 2, 1, lambda x, y: (x + y) % 2, 2)

# Greyscale masks.
write("grey8.png", png(6, 4, 8, 0, [pack([255 if x == 5 else x * 40 + y for x in range(6)], 8) for y in range(4)]))
write("grey16.png", png(4, 2, 16, 0, [pack([x + 10 * y for x in range(4)], 16) for y in range(2)]))
write("grey16_too_big.png", png(2, 1, 16, 0, [pack([3, 300], 16)]))

# RGB masks painted with VOC colours (label (x + 4y) % 21, and 255 at the last pixel), and one with a foreign colour.
voc_labels = [[255 if (x, y) == (3, 2) else (x + 4 * y) % 21 for x in range(4)] for y in range(3)]
write("rgb_voc.png", png(4, 3, 8, 2, [bytes(c for v in row for c in voc_color(v)) for row in voc_labels]))
write("rgb_not_voc.png", png(2, 1, 8, 2, [bytes([0, 0, 0, 1, 2, 3])]))

# Defects.
write("interlaced.png", png(4, 4, 8, 0, [bytes(4)] * 4, interlace=1))
good = bytearray(open("palette8.png", "rb").read())
idat = good.index(b"IDAT")
good[idat + 6] ^= 0xFF  # a byte of the first IDAT's compressed data: only the CRC can notice
write("bad_crc.png", bytes(good))
write("truncated.png", open("palette8.png", "rb").read()[:60])

# JPEG: four flat 8x8 quadrants, no chroma subsampling, high quality.
quadrants = [(200, 30, 40), (20, 180, 60), (30, 50, 220), (240, 240, 240)]
ppm = bytearray(b"P6\n16 16\n255\n")
for y in range(16):
    for x in range(16):
        ppm += bytes(quadrants[(y // 8) * 2 + x // 8])
write("quadrants.ppm", bytes(ppm))
subprocess.run(["cjpeg", "-quality", "95", "-sample", "1x1", "-outfile", "quadrants.jpg", "quadrants.ppm"], check=True)
subprocess.run(["rm", "quadrants.ppm"], check=True)
