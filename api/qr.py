"""QR codes of universal links, rendered with segno and cached.

Always a full QR code (`make_qr`, never Micro QR), error correction M, no boost, so
that the version stays predictable (an invitation link fits version 11 for a
30-character PUBLIC_BASE_URL). A code takes about 6 ms of pure Python (with the faster
mask selection and PNG writer of `api.qr_speed`), so rendering runs in a process pool,
off the event loop, and each image is cached.
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import re
import signal
from concurrent.futures import Executor
from typing import Literal

import segno

from api import qr_speed
from api.lru import LRU

qr_speed.install()

ImageKind = Literal["png", "svg"]
DEFAULT_SCALE = 8
BORDER = 4


def make_qr(data: str) -> segno.QRCode:
    return segno.make_qr(data, error="m", boost_error=False)


RENDER_NICENESS = 10


def init_render_process() -> None:
    """Initializer of render processes: shutdown is the parent's business alone, and
    requests come first (emails render with whatever CPU they leave)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(RENDER_NICENESS)


def render(data: str, kind: ImageKind, scale: int = DEFAULT_SCALE) -> bytes:
    """The QR image of `data`; runs in a worker process."""
    qr = make_qr(data)
    if kind == "png":
        return qr_speed.png(qr.matrix, scale, BORDER)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=BORDER, xmldecl=False, title="QR code")
    return out.getvalue()


class QRRenderer:
    """Renders QR images in `executor` (None: the calling thread) with an LRU cache."""

    def __init__(self, executor: Executor | None, cache_size: int = 4096) -> None:
        self._executor = executor
        self._cache: LRU[tuple[str, str, int], bytes] = LRU(cache_size)
        self._pending: dict[tuple[str, str, int], asyncio.Future[bytes]] = {}

    def cached(self, data: str, kind: ImageKind, scale: int = DEFAULT_SCALE) -> bytes | None:
        return self._cache.get((data, kind, scale))

    async def image(self, data: str, kind: ImageKind, scale: int = DEFAULT_SCALE) -> bytes:
        cached = self.cached(data, kind, scale)
        if cached is not None:
            return cached
        key = (data, kind, scale)
        future = self._pending.get(key)
        if future is None:  # else the same image is being rendered for another request
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._executor, render, data, kind, scale)
            self._pending[key] = future
            future.add_done_callback(functools.partial(self._rendered, key))
        # Shielded: a request that goes away leaves the rendering to those that wait for it.
        return await asyncio.shield(future)

    def _rendered(self, key: tuple[str, str, int], future: asyncio.Future[bytes]) -> None:
        del self._pending[key]
        if not future.cancelled() and future.exception() is None:
            self._cache.put(key, future.result())


_SEGNO_SVG = re.compile(rb'width="(\d+)".*? d="([^"]+)"', re.S)


def svg_symbol(svg: bytes) -> tuple[int, str]:
    """(size in modules, path data) of a segno SVG rendered at scale 1, to place the code
    inside another drawing."""
    match = _SEGNO_SVG.search(svg)
    if match is None:
        raise ValueError("not a segno SVG")
    return int(match.group(1)), match.group(2).decode()
