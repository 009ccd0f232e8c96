"""The fast mask selection and PNG writer give exactly what segno's own give."""

from __future__ import annotations

import io
import random
import string

import pytest
import segno
from PIL import Image
from segno import encoder

from api import qr_speed
from tests.qr_decode import decode_both

ALPHABET = string.ascii_letters + string.digits + "-_."


def payloads(count: int, seed: int) -> list[str]:
    """Links of many lengths, so many versions (and so alignment layouts) are covered."""
    rng = random.Random(seed)
    return [
        "https://invites.banqup.example/i/"
        + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 700)))
        for _ in range(count)
    ]


class Captured(Exception):
    def __init__(self, matrix: list[bytearray], size: int) -> None:
        self.matrix, self.size = matrix, size


def unmasked_matrix(data: str) -> tuple[list[bytearray], int]:
    """The matrix segno hands to mask selection (caught on its way there)."""

    def capture(matrix, width, height, proposed_mask=None):  # type: ignore[no-untyped-def]
        raise Captured([bytearray(row) for row in matrix], width)

    installed = encoder.find_and_apply_best_mask
    encoder.find_and_apply_best_mask = capture
    try:
        segno.make_qr(data, error="m", boost_error=False)
    except Captured as captured:
        return captured.matrix, captured.size
    finally:
        encoder.find_and_apply_best_mask = installed
    raise AssertionError("segno chose no mask")


def test_penalties_equal_segnos_for_every_mask() -> None:
    for data in payloads(60, seed=1):
        matrix, size = unmasked_matrix(data)
        unmasked = int.from_bytes(b"".join(matrix), "big")
        for layer in qr_speed._mask_layers(size):
            masked = (unmasked ^ layer).to_bytes(size * size, "big")
            rows = [bytearray(masked[i : i + size]) for i in range(0, size * size, size)]
            expected = encoder.evaluate_mask(rows, size, size)
            assert qr_speed.penalty(unmasked ^ layer, size) == expected


def test_the_same_mask_and_matrix_as_segno() -> None:
    for data in payloads(120, seed=2):
        matrix, size = unmasked_matrix(data)
        theirs = qr_speed._segno_find_and_apply_best_mask(
            [bytearray(r) for r in matrix], size, size
        )
        ours = qr_speed.find_and_apply_best_mask([bytearray(r) for r in matrix], size, size)
        assert ours[0] == theirs[0]
        assert [bytes(r) for r in ours[1]] == [bytes(r) for r in theirs[1]]


@pytest.mark.parametrize(("scale", "border"), [(1, 0), (3, 4), (4, 4), (8, 2)])
def test_png_pixels_equal_segnos(scale: int, border: int) -> None:
    for data in payloads(5, seed=scale):
        qr = segno.make_qr(data, error="m", boost_error=False)
        theirs = io.BytesIO()
        qr.save(theirs, kind="png", scale=scale, border=border)
        ours = qr_speed.png(qr.matrix, scale, border)
        expected = Image.open(io.BytesIO(theirs.getvalue())).convert("L")
        actual = Image.open(io.BytesIO(ours))
        assert actual.mode == "1"
        assert actual.convert("L").tobytes() == expected.tobytes()
        assert actual.size == expected.size


def test_png_decodes() -> None:
    [data] = payloads(1, seed=9)
    qr = segno.make_qr(data[:200], error="m", boost_error=False)
    assert decode_both(qr_speed.png(qr.matrix, 4, 4)) == data[:200]
