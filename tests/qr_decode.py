"""Read QR codes back with real decoders: zxing-cpp, and OpenCV as a second opinion."""

from __future__ import annotations

import io

import cv2
import numpy as np
import zxingcpp
from PIL import Image


def decode_zxing(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def decode_opencv(png: bytes) -> str:
    array = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    # The ArUco-based detector finds finder patterns far more reliably than the classic
    # QRCodeDetector, which misses a few percent of perfectly clean, large renderings.
    text, _points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(array)
    return str(text)


def decode_both(png: bytes) -> str:
    """The one text both decoders read from `png` (asserts they agree)."""
    zxing = decode_zxing(png)
    assert len(zxing) == 1, f"zxing-cpp found {len(zxing)} QR codes"
    assert decode_opencv(png) == zxing[0], "OpenCV reads something else than zxing-cpp"
    return zxing[0]
