"""QR images of universal links: small enough to scan, readable by real decoders."""

import re
import xml.etree.ElementTree as ET

import pytest
import segno

from api.qr import make_qr, render
from api.tokens import KeyRing, new_token_id
from mobile_contract.links import universal_link
from tests.qr_decode import decode_both
from tests.support import Api, Caller, assert_problem, token_of

BASE = "https://invites.banqup.example"  # 30 characters, as the contract sizes it


def test_invitation_qr_is_version_11_or_lower_at_level_m() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ring = KeyRing(Ed25519PrivateKey.generate(), [])
    assert len(BASE) == 30
    for typ in ("inv", "qr", "reg"):
        url = universal_link(BASE, ring.sign(new_token_id(), 4_102_444_800, typ))  # year 2100
        qr = make_qr(url)
        assert qr.version <= 11, (typ, qr.version, len(url))
        assert qr.error == "M"
        assert not qr.is_micro


@pytest.mark.parametrize("scale", [3, 8])
def test_png_decodes_with_both_decoders(scale: int) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    url = universal_link(
        BASE, KeyRing(Ed25519PrivateKey.generate(), []).sign(new_token_id(), 4_102_444_800, "inv")
    )
    assert decode_both(render(url, "png", scale)) == url


def test_short_data_never_becomes_micro_qr() -> None:
    assert not make_qr("x").is_micro
    assert segno.make("x").is_micro  # what make_qr protects against


def test_qr_endpoints_serve_the_link(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    token = token_of(invitation)
    png = api.http.get(f"/i/{token}/qr.png", params={"scale": 3})
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    max_age = int(re.fullmatch(r"private, max-age=(\d+)", png.headers["cache-control"]).group(1))  # type: ignore[union-attr]
    assert 86000 < max_age <= 86400
    assert png.headers["referrer-policy"] == "no-referrer"
    assert decode_both(png.content) == invitation["url"]

    svg = api.http.get(f"/i/{token}/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # Same symbol as the PNG: (modules + 2 x 4 border) x scale 8 on each side.
    modules = make_qr(invitation["url"]).symbol_size(scale=1, border=0)[0]
    assert root.get("width") == root.get("height") == str((modules + 8) * 8)


def test_qr_images_only_for_usable_tokens(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke")
    response = api.http.get(f"/i/{token_of(invitation)}/qr.png")
    assert_problem(response, 410, "invitation_revoked")
    assert_problem(api.http.get("/i/garbage/qr.svg"), 400, "token_invalid")


@pytest.mark.parametrize("scale", ["0", "21", "big"])
def test_qr_scale_is_validated(api: Api, owner: Caller, scale: str) -> None:
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    response = api.http.get(f"/i/{token_of(invitation)}/qr.png", params={"scale": scale})
    assert_problem(response, 400, "validation_failed")


def test_one_rendering_serves_every_asker_though_the_first_goes_away() -> None:
    """Two requests for one image share its rendering; the first going away (cancelled)
    leaves it to the second, and the image is cached."""
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from api.qr import QRRenderer

    url = f"{BASE}/i/shared-rendering"

    async def scenario() -> tuple[bool, bytes, bytes | None]:
        with ThreadPoolExecutor(1) as pool:
            gate = threading.Event()
            pool.submit(gate.wait)  # the renderer's thread is busy until the gate opens
            renderer = QRRenderer(pool)
            first = asyncio.create_task(renderer.image(url, "png"))
            await asyncio.sleep(0)
            second = asyncio.create_task(renderer.image(url, "png"))
            await asyncio.sleep(0)
            first.cancel()
            await asyncio.sleep(0)
            gate.set()
            image = await second
            return first.cancelled(), image, renderer.cached(url, "png")

    cancelled, image, cached = asyncio.run(scenario())
    assert cancelled
    assert image == cached
    assert decode_both(image) == url
