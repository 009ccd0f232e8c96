"""Faster equivalents of the two slow steps of a QR image in segno, same results.

- Mask selection: segno applies and scores all eight masks module by module in Python
  (about 20 ms for an invitation link). `find_and_apply_best_mask` below scores the same
  ISO/IEC 18004 penalties (N1-N4) with whole-row operations: rows as bytes and as big
  integers, runs found by regular expressions, the 1:1:3:1:1 pattern by `bytes.find`,
  exactly as segno counts them, and picks the same mask (tests/test_qr_speed.py compares
  both on hundreds of payloads). `install()` puts it in segno's encoder.
- PNG: segno's writer builds each pixel in a generator (about 5 ms at scale 4);
  `png()` writes the same 1-bit greyscale image a row of modules at a time.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from collections.abc import Sequence

from segno import encoder

_segno_find_and_apply_best_mask = encoder.find_and_apply_best_mask
_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_N3 = b"\x01\x00\x01\x01\x01\x00\x01"


@functools.cache
def _mask_layers(size: int) -> tuple[int, ...]:
    """For a symbol of `size` modules, each mask's XOR over the encoding region, one
    integer per row (a base-256 digit per module), rows concatenated per mask."""
    function_matrix = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function_matrix, size, size)
    encoder.add_alignment_patterns(function_matrix, size, size)
    function_matrix[-8][8] = 0x1
    layers = []
    for pattern in encoder.get_data_mask_functions(False):
        rows = bytearray()
        for i in range(size):
            rows += bytes(pattern(i, j) if function_matrix[i][j] > 0x1 else 0 for j in range(size))
        layers.append(int.from_bytes(rows, "big"))
    return tuple(layers)


def _n1(text: bytes) -> int:
    """3 points per run of five modules of one colour, and 1 per module more."""
    runs = _RUN.findall(text)
    return sum(map(len, runs)) - 2 * len(runs)


def _n2(rows: Sequence[bytes], size: int) -> int:
    """3 points per 2x2 block of one colour (overlapping blocks count each)."""
    digits = int.from_bytes(b"\x01" * (size - 1), "big")  # modules 1..size-1 of a row
    count = 0
    previous = int.from_bytes(rows[0], "big")
    for row in rows[1:]:
        current = int.from_bytes(row, "big")
        differs = (current ^ (current >> 8)) | (previous ^ (previous >> 8)) | (current ^ previous)
        count += size - 1 - (differs & digits).bit_count()
        previous = current
    return 3 * count


def _n3(text: bytes, size: int) -> int:
    """segno's count of 1:1:3:1:1 patterns with four light modules on a side, in lines of
    `size` modules joined by a separator."""
    count = 0
    stride = size + 1
    found = text.find(_N3)
    while found != -1:
        start = found - found % stride
        line, index = text[start : start + size], found % stride
        offset = index + 7
        if (
            index in (0, size - 7)
            or not any(line[max(index - 4, 0) : index])
            or not any(line[offset : offset + 4])
        ):
            count += 40
        else:
            offset = index + 4
        found = text.find(_N3, start + offset)
    return count


def penalty(rows: Sequence[bytes], size: int) -> int:
    """The ISO/IEC 18004 penalty of a masked symbol, as segno scores it."""
    columns = [bytes(column) for column in zip(*rows, strict=True)]
    text = b"\x02".join((*rows, *columns))  # no run or pattern crosses a separator
    dark = sum(row.count(1) for row in rows)
    n4 = 10 * int(abs(float(dark) / (size**2) * 100 - 50) / 5)
    return _n1(text) + _n2(rows, size) + _n3(text, size) + n4


def find_and_apply_best_mask(
    matrix: Sequence[bytearray], width: int, height: int, proposed_mask: int | None = None
) -> tuple[int, tuple[bytearray, ...]]:
    """segno's `find_and_apply_best_mask`, for full QR codes without a proposed mask."""
    if proposed_mask is not None or width != height or width < 21:
        return _segno_find_and_apply_best_mask(matrix, width, height, proposed_mask)  # type: ignore[no-any-return]
    size = width
    unmasked = int.from_bytes(b"".join(matrix), "big")
    best: tuple[int, int, bytes] | None = None
    for number, layer in enumerate(_mask_layers(size)):
        masked = (unmasked ^ layer).to_bytes(size * size, "big")
        rows = [masked[i : i + size] for i in range(0, size * size, size)]
        score = penalty(rows, size)
        if best is None or score < best[0]:
            best = (score, number, masked)
    assert best is not None
    _, number, masked = best
    return number, tuple(bytearray(masked[i : i + size]) for i in range(0, size * size, size))


def install() -> None:
    """Use the fast mask selection in segno's encoder (results are the same)."""
    encoder.find_and_apply_best_mask = find_and_apply_best_mask


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(matrix: Sequence[Sequence[int]], scale: int, border: int) -> bytes:
    """A 1-bit greyscale PNG of `matrix` (dark modules black), `border` light modules
    around it, `scale` pixels a module."""
    size = (len(matrix) + 2 * border) * scale
    dark, light = "0" * scale, "1" * scale
    edge = light * border
    padding = "1" * (-size % 8)
    width_bytes = (size + 7) // 8
    blank = (b"\x00" + b"\xff" * width_bytes) * (border * scale)
    lines = [blank]
    for row in matrix:
        bits = edge + "".join(dark if module else light for module in row) + edge + padding
        lines.append((b"\x00" + int(bits, 2).to_bytes(width_bytes, "big")) * scale)
    lines.append(blank)
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(b"".join(lines), 9)),
            _chunk(b"IEND", b""),
        )
    )
