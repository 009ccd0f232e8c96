"""The normalised text that client search and the name sort read.

Search is case- and accent-insensitive (`muller` finds `Müller`) and finds a VAT number
however it is typed (`BE 0123.456.789` finds `BE0123456789`). Rather than asking each
engine to fold text its own way, the service writes the folded forms next to the
client's fields (`name_key`, `search_text`, `vat_key`, kept by `api.services.clients`)
and compares them with the folded query: the same rule on SQLite and PostgreSQL (where a
trigram index on those columns serves `LIKE '%…%'`).
"""

from __future__ import annotations

import re
import unicodedata

_VAT_NOISE = re.compile(r"[\s.\-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
LIKE_ESCAPE = "!"


# Letters that are not a base letter with an accent, so no decomposition takes them apart,
# spelt as their readers type them without the key: `Cœur` is found as `coeur`, `Søren` as
# `soren`, `Łódź` as `lodz`. (Lower case: they are applied after case folding; U+0131 is
# the dotless i.)
_SPELT_OUT = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "ŧ": "t",
        "\u0131": "i",
    }
)


def fold(text: str) -> str:
    """`text` without accents, case-folded (`Müller` -> `muller`, `Straße` -> `strasse`,
    `Cœur` -> `coeur`)."""
    decomposed = unicodedata.normalize("NFKD", _CONTROL.sub(" ", text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().translate(_SPELT_OUT)


NAME_KEY_LENGTH = 200  # the length of `client.name_key`


def name_key(name: str) -> str:
    """A name's sort key: folded, cut to its column's length. Folding can make it many
    times longer than the name (NFKD spells "㍿" as four characters): two names alike in
    their first 200 folded characters sort by id."""
    return fold(name)[:NAME_KEY_LENGTH]


def vat_key(vat_number: str | None) -> str:
    """A VAT number folded, without spaces, dots and dashes."""
    return _VAT_NOISE.sub("", fold(vat_number or ""))


def search_text(name: str, email: str | None, external_ref: str | None) -> str:
    """The searchable fields other than the VAT number, folded, one per line (so a term
    never matches across two fields)."""
    return "\n".join(fold(value) for value in (name, email or "", external_ref or ""))


def contains_pattern(term: str) -> str:
    """A LIKE pattern (escape character `LIKE_ESCAPE`) matching `term` literally
    anywhere: `%` and `_` typed by a user are letters, not wildcards."""
    escaped = "".join(LIKE_ESCAPE + c if c in ("%", "_", LIKE_ESCAPE) else c for c in term)
    return f"%{escaped}%"


def client_keys(
    name: str, email: str | None, vat_number: str | None, external_ref: str | None
) -> dict[str, str]:
    """The folded columns of a client with these fields."""
    return {
        "name_key": name_key(name),
        "search_text": search_text(name, email, external_ref),
        "vat_key": vat_key(vat_number),
    }
