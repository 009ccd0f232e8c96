"""The browser demo (dev only): a partner dashboard, the app's side and a mail viewer.

The pages (`api/templates/demo/`, on one layout; their scripts and styles in
`api/demo_pages/`) use the public API like any dashboard or app; the sign-in travels in
the URL fragment, which never reaches the server. The one route of their own is the mail
viewer's list of the `file://` outbox. `create_app` registers this router only when
`APP_ENV=dev`, so elsewhere these paths are 404.
"""

from __future__ import annotations

import base64
import contextlib
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import msgspec
from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from api.routes.params import Ctx, CurrentUser, current_user
from api.templates import ENV

ASSETS = Path(__file__).parent.parent / "demo_pages"
MAX_MESSAGES = 100
# The pages load only themselves and the API; message HTML is shown in a sandboxed
# srcdoc frame (no scripts), which inherits this policy, hence inline styles and data:.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; media-src 'self' blob:; frame-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


class MailMessage(msgspec.Struct, kw_only=True):
    """One `.eml` of the outbox folder, ready to show."""

    id: str
    date: str | None
    sender: str
    to: str
    subject: str
    html: str | None
    text: str | None


class MailList(msgspec.Struct):
    items: list[MailMessage]
    folder: str | None


def mail_folder(mail_url: str) -> Path | None:
    """The folder of a `file://` MAIL_URL (read as the file transport reads it), else None."""
    parts = urlsplit(mail_url)
    return Path(unquote(parts.netloc + parts.path)) if parts.scheme == "file" else None


def read_message(path: Path) -> MailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    if not isinstance(message, EmailMessage):
        raise TypeError("not a message")
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    html = html_part.get_content() if html_part is not None else None
    if html is not None:
        html = _inline_images(message, html)
    date = message.get("Date")
    return MailMessage(
        id=path.stem,
        date=parsedate_to_datetime(date).isoformat() if date else None,
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        html=html,
        text=text_part.get_content() if text_part is not None else None,
    )


def _inline_images(message: EmailMessage, html: str) -> str:
    """`cid:` references replaced by data: URLs of the parts they name."""
    images: dict[str, str] = {}
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                encoded = base64.b64encode(payload).decode()
                images[cid.strip().strip("<>")] = f"data:{part.get_content_type()};base64,{encoded}"
    return re.sub(r"cid:([^\"'\s>]+)", lambda m: images.get(unquote(m.group(1)), m.group(0)), html)


@get("/mail/messages", sync_to_thread=True)
def mail_messages(ctx: Ctx, user: CurrentUser) -> MailList:
    """The newest messages of the `file://` outbox, newest first (any signed-in user)."""
    folder = mail_folder(ctx.settings.mail_url)
    if folder is None or not folder.is_dir():
        return MailList(items=[], folder=str(folder) if folder else None)
    dated = []
    for path in folder.glob("*.eml"):
        with contextlib.suppress(OSError):  # gone since the listing
            dated.append((path.stat().st_mtime_ns, path.name, path))
    items = []
    for _, _, path in sorted(dated, reverse=True)[:MAX_MESSAGES]:
        # A file that is gone or not a message is left out rather than failing the list.
        with contextlib.suppress(OSError, ValueError, LookupError, TypeError):
            items.append(read_message(path))
    return MailList(items=items, folder=str(folder))


def _page(name: str) -> Response[str]:
    """The page `templates/demo/<name>.html.j2` (on the layout the three share)."""
    html = ENV.get_template(f"demo/{name}.html.j2").render()
    return Response(html, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@get("/")
async def dashboard_page() -> Response[str]:
    return _page("dashboard")


@get("/app")
async def app_page() -> Response[str]:
    return _page("app")


@get("/mail")
async def mail_page() -> Response[str]:
    return _page("mail")


def demo_router() -> Router:
    assets = create_static_files_router(
        path="/assets",
        directories=[ASSETS],
        include_in_schema=False,
        cache_control=CacheControlHeader(no_cache=True),
    )
    return Router(
        path="/demo",
        route_handlers=[dashboard_page, app_page, mail_page, mail_messages, assets],
        dependencies={"user": Provide(current_user)},
        include_in_schema=False,
    )
