"""Debian's Chromium, driven by Playwright: what the browser tests share.

Importing this skips the importing test module, with the reason in the summary, where
Chromium is not installed (`make test` installs it when it can); `CHROMIUM` names another
binary."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, ViewportSize, sync_playwright

from tests.conftest import missing_tool

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not os.access(CHROMIUM, os.X_OK):
    missing_tool(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")

PHONE: ViewportSize = {"width": 390, "height": 844}  # the pages must fit its width

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def chromium(profile: Path, width: int, height: int) -> Iterator[BrowserContext]:
    """A headless Chromium with its own profile folder, speaking en-US."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": width, "height": height},
            locale="en-US",
        )
        try:
            yield context
        finally:
            context.close()


def page_width(page: Page) -> int:
    """How wide the page's content is (more than the viewport: it scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth"))
