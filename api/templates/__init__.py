"""Jinja2 templates for emails and pages; the wording of each language is in `words/`.

A `words/<lang>.j2` file only sets strings (with `{name}` placeholders); templates fill
them with the `fill` filter, which escapes the values in HTML and leaves them alone in
plain text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from mobile_contract.errors import LANGUAGES


@pass_eval_context
def fill(eval_ctx: EvalContext, text: str, **values: Any) -> str:
    if eval_ctx.autoescape:
        return Markup(escape(text)).format(**values)
    return text.format(**values)


# What link detectors look for between words: a host's dots, a scheme's colon and slashes,
# an address's @.
_SEPARATORS = re.compile(r"[.:/@]")


def unlinked(text: str) -> Markup:
    """A partner's message as HTML that no reader turns into links: escaped, with each
    `.`, `:`, `/` and `@` in an element of its own. It reads and copies as written, but
    the link and address detectors of mail clients and phones, which look at one run of
    text at a time, find no `example.com` or `https://…` to link (unlike escaping alone;
    and with no invisible characters added to what is copied)."""
    return Markup(_SEPARATORS.sub(lambda m: f"<span>{m.group()}</span>", str(escape(text))))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "svg.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fill"] = fill
    env.filters["unlinked"] = unlinked
    env.globals["Markup"] = Markup
    return env


ENV = _environment()


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "en"


def render_mail(name: str, lang: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of the email `name` (`mail/<name>.*.j2`) in `lang`."""
    context = context | {"lang": language(lang)}
    subject = ENV.get_template(f"mail/{name}.subject.txt.j2").render(context).strip()
    text = ENV.get_template(f"mail/{name}.txt.j2").render(context)
    html = ENV.get_template(f"mail/{name}.html.j2").render(context)
    return " ".join(subject.split()), text, html


def render_poster(lang: str, context: dict[str, Any]) -> str:
    """The A4 poster (SVG) of a registration link."""
    return ENV.get_template("poster.svg.j2").render(context | {"lang": language(lang)})
