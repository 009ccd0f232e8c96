"""Faster equivalents of the two slow steps of a QR image in segno, same results.

- Mask selection: segno applies and scores all eight masks module by module in Python
  (about 20 ms for an invitation link). `find_and_apply_best_mask` below scores the same
  ISO/IEC 18004 penalties (N1-N4) on the whole symbol at once, held as one big integer
  (runs and blocks by shifts and masks, the 1:1:3:1:1 pattern by `bytes.find`), exactly
  as segno counts them, and picks the same mask (tests/test_qr_speed.py compares
  both on hundreds of payloads). `install()` puts it in segno's encoder.
- PNG: segno's writer builds each pixel in a generator (about 5 ms at scale 4);
  `png()` writes the same 1-bit greyscale image a row of modules at a time.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable, Sequence

from segno import encoder

_segno_find_and_apply_best_mask = encoder.find_and_apply_best_mask
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


@functools.cache
def _where(size: int) -> tuple[int, int, int]:
    """Digit masks (a module a digit, as in `penalty`): modules with four more to their
    left, with four more above, and with one to the left and one above."""

    def digits(keep: Callable[[int, int], bool]) -> int:
        cells = bytes(keep(i, j) for i in range(size) for j in range(size))
        return int.from_bytes(cells, "big")

    return (
        digits(lambda i, j: j >= 4),
        digits(lambda i, j: i >= 4),
        digits(lambda i, j: i >= 1 and j >= 1),
    )


def _runs(differs: int, step: int, where: int) -> int:
    """N1 along one direction: 3 points per run of five modules of one colour and 1 per
    module more. `differs` has a 1 where a module differs from its neighbour `step` bits
    back; a run of L modules leaves L - 4 digits in `same` (L - 2 points: those, and 2
    for the run's first digit)."""
    spread = differs | differs >> step | differs >> 2 * step | differs >> 3 * step
    same = (spread & where) ^ where
    return same.bit_count() + 2 * (same & ~(same >> step)).bit_count()


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


def penalty(symbol: int, size: int) -> int:
    """The ISO/IEC 18004 penalty of a masked symbol, as segno scores it. `symbol` holds a
    module per base-256 digit (0 light, 1 dark), rows top to bottom: shifting it by 8 bits
    lines each module up with its left neighbour, by 8 * size with the one above."""
    row_step, column_step = 8, 8 * size
    left, above = symbol ^ (symbol >> row_step), symbol ^ (symbol >> column_step)
    four_left, four_above, square = _where(size)
    n1 = _runs(left, row_step, four_left) + _runs(above, column_step, four_above)
    blocks = (size - 1) ** 2 - ((left | (left >> column_step) | above) & square).bit_count()
    cells = symbol.to_bytes(size * size, "big")
    rows = [cells[i : i + size] for i in range(0, size * size, size)]
    text = b"\x02".join((*rows, *map(bytes, zip(*rows, strict=True))))
    n4 = 10 * int(abs(float(symbol.bit_count()) / (size**2) * 100 - 50) / 5)
    return n1 + 3 * blocks + _n3(text, size) + n4


def find_and_apply_best_mask(
    matrix: Sequence[bytearray], width: int, height: int, proposed_mask: int | None = None
) -> tuple[int, tuple[bytearray, ...]]:
    """segno's `find_and_apply_best_mask`, for full QR codes without a proposed mask."""
    if proposed_mask is not None or width != height or width < 21:
        return _segno_find_and_apply_best_mask(matrix, width, height, proposed_mask)  # type: ignore[no-any-return]
    size = width
    unmasked = int.from_bytes(b"".join(matrix), "big")
    best: tuple[int, int, int] | None = None
    for number, layer in enumerate(_mask_layers(size)):
        masked = unmasked ^ layer
        score = penalty(masked, size)
        if best is None or score < best[0]:
            best = (score, number, masked)
    assert best is not None
    _, number, masked = best
    cells = masked.to_bytes(size * size, "big")
    return number, tuple(bytearray(cells[i : i + size]) for i in range(0, size * size, size))


def install() -> None:
    """Use the fast mask selection in segno's encoder (results are the same)."""
    encoder.find_and_apply_best_mask = find_and_apply_best_mask


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(matrix: Sequence[Sequence[int]], scale: int, border: int) -> bytes:
    """A 1-bit greyscale PNG of `matrix` (dark modules black), `border` light modules
    around it, `scale` pixels a module."""
    size = (len(matrix) + 2 * border) * scale
    modules = ("1" * scale, "0" * scale)  # light, dark: one bit per pixel, dark is 0
    edge = modules[0] * border
    padding = "1" * (-size % 8)
    width_bytes = (size + 7) // 8
    blank = (b"\x00" + b"\xff" * width_bytes) * (border * scale)
    lines = [blank]
    for row in matrix:
        bits = edge + "".join(map(modules.__getitem__, row)) + edge + padding
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
