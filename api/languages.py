"""Which of our languages (en, nl, fr, de) a request asks for: pages, emails and
problem documents follow `Accept-Language`."""

from __future__ import annotations

from mobile_contract.errors import LANGUAGES


def preferred_language(header: str | None, fallback: str | None) -> str:
    """The first of our languages the browser asks for (by q), else the client's, else en."""
    asked = asked_language(header)
    if asked is not None:
        return asked
    return fallback if fallback in LANGUAGES else "en"


def asked_language(header: str | None) -> str | None:
    """The first of our languages an `Accept-Language` header asks for, by weight
    (`nl-BE,nl;q=0.9,en;q=0.8` gives `nl`); None when it asks for none of them."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None
