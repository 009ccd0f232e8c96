"""`make screenshots`: the README's pictures of the demo pages, taken in Debian's Chromium.

Seeds a throwaway database as `make run` does, serves it, walks a little of the story
(one invitation sent, its email, its preview in the app's side) and writes
docs/screenshots/{dashboard,app,mail}.png, 800 px wide, in a 64-colour palette.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).parent.parent
OUT = ROOT / "docs" / "screenshots"
WIDTH = 800
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def save(page: Page, name: str) -> None:
    shot = Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("RGB")
    if shot.width > WIDTH:
        shot = shot.resize(
            (WIDTH, round(shot.height * WIDTH / shot.width)), Image.Resampling.LANCZOS
        )
    small = shot.quantize(64, method=Image.Quantize.MEDIANCUT)
    small.save(OUT / f"{name}.png", optimize=True)
    print(f"docs/screenshots/{name}.png: {(OUT / f'{name}.png').stat().st_size // 1024} KB")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="demo-screenshots-"))
    port = free_port()
    env = dict(os.environ) | {
        "APP_ENV": "dev",
        "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "MAIL_URL": f"file://{folder / 'mail'}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "VAR_DIR": str(folder / "var"),
        "INVITE_SIGNING_KEY_FILE": str(folder / "var" / "invite-signing-key.pem"),
    }
    env.pop("AUTH_HS256_SECRET", None)
    env.pop("AUTH_JWKS_URL", None)
    printed = subprocess.run(
        [sys.executable, "-m", "api", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    urls = {
        kind: url for url, kind in re.findall(r"(http://\S+/demo/(app|mail)?#token=\S+)", printed)
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = browser.new_context(viewport={"width": 800, "height": 900}, locale="en-US")
            dashboard = context.new_page()
            dashboard.set_viewport_size({"width": 1200, "height": 1000})  # two columns
            dashboard.goto(urls[""])
            dashboard.get_by_role("checkbox", name="Green Garden Ltd").check()
            dashboard.get_by_role("button", name="Invite", exact=True).click()
            dashboard.get_by_role("button", name="Send invites").click()
            dashboard.get_by_role("tab", name="Invited", exact=True).click()
            dashboard.get_by_role("button", name="Bakkerij Janssens").click()
            dashboard.get_by_role("button", name="Show QR code").click()
            dashboard.wait_for_function(
                "() => document.getElementById('meeting-qr').naturalWidth > 0"
            )
            save(dashboard, "dashboard")

            mail = context.new_page()
            mail.goto(urls["mail"])
            mail.get_by_role("button", name=re.compile("To Green Garden Ltd")).click()
            mail.wait_for_timeout(500)
            save(mail, "mail")
            link = mail.locator("#links a").filter(has_text="/i/").first.get_attribute("href")

            app = context.new_page()
            app.goto(urls["app"])
            app.get_by_label("Invitation link").fill(link or "")
            app.get_by_role("button", name="Preview", exact=True).click()
            app.locator("#offer").wait_for()
            save(app, "app")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
