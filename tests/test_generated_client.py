"""The schema as the app and dashboard teams use it: it validates with a standard OpenAPI
validator, and a client generated from it by a third-party generator
(openapi-python-client) drives the whole flow against a real server with typed results."""

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from litestar.testing import TestClient
from openapi_spec_validator import validate

from tests.conftest import LiveServer
from tests.support import Api

SNAPSHOT = Path(__file__).parent.parent / "mobile_contract" / "openapi.json"
# This generator writes only JSON, octet-stream and text responses; the QR images are
# read as what they are to it (bytes, text). Other generators take them as they are.
GENERATOR_CONFIG = """\
post_hooks: []
content_type_overrides:
  image/png: application/octet-stream
  image/svg+xml: text/plain
"""


def test_the_served_schema_is_valid_openapi(test_client: TestClient[Any]) -> None:
    schema = test_client.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    validate(schema)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from `mobile_contract/openapi.json`, imported."""
    root = tmp_path_factory.mktemp("generated")
    config = root / "config.yml"
    config.write_text(GENERATOR_CONFIG)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(SNAPSHOT),
            "--meta",
            "none",
            "--output-path",
            str(root / "banqup_client"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("banqup_client")
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.split(".")[0] == "banqup_client"]:
            del sys.modules[name]


def test_a_generated_client_drives_the_invitation_flow_with_typed_results(
    generated: ModuleType, api: Api, live_server: LiveServer
) -> None:
    from banqup_client import AuthenticatedClient
    from banqup_client.api.clients import create_client, list_clients
    from banqup_client.api.invitations import get_invitation, invite_clients
    from banqup_client.api.mobile import confirm_invitation, preview_invitation
    from banqup_client.api.spaces import create_business, create_partner, get_me
    from banqup_client.models import Business as BusinessModel
    from banqup_client.models import (
        BusinessCreate,
        ClientCreate,
        ClientPage,
        Confirmation,
        ConfirmRequest,
        GrantRequest,
        InviteRequest,
        InviteResponse,
        Me,
        PartnerCreate,
        Preview,
        Problem,
    )
    from banqup_client.models import Client as ClientModel
    from banqup_client.models import Invitation as InvitationModel
    from banqup_client.models import Partner as PartnerModel

    def signed_in(name: str) -> Any:
        token = api.user(name).headers["Authorization"].removeprefix("Bearer ")
        return AuthenticatedClient(base_url=live_server.base_url, token=token)

    dashboard, app = signed_in("gen-anna"), signed_in("gen-ben")
    partner = create_partner.sync(client=dashboard, body=PartnerCreate(name="Typed Accountants"))
    assert isinstance(partner, PartnerModel)
    business = create_business.sync(client=app, body=BusinessCreate(name="Typed Bakery"))
    assert isinstance(business, BusinessModel)
    added = create_client.sync(
        partner.id,
        client=dashboard,
        body=ClientCreate(name="Typed Bakery", email="owner@typed-bakery.example"),
    )
    assert isinstance(added, ClientModel)
    invited = invite_clients.sync(
        partner.id, client=dashboard, body=InviteRequest(client_ids=[added.id])
    )
    assert isinstance(invited, InviteResponse)
    invitation = invited.results[0].invitation
    assert isinstance(invitation, InvitationModel)
    token = invitation.url.rsplit("/", 1)[-1]

    preview = preview_invitation.sync(client=app, body=GrantRequest(token=token))
    assert isinstance(preview, Preview)
    assert preview.partner.name == "Typed Accountants"
    confirmed = confirm_invitation.sync(
        client=app, body=ConfirmRequest(token=token, business_id=business.id)
    )
    assert isinstance(confirmed, Confirmation)
    assert confirmed.link.business_id == business.id

    page = list_clients.sync(partner.id, client=dashboard)
    assert isinstance(page, ClientPage)
    assert [(c.id, c.status.value) for c in page.items] == [(added.id, "active")]
    accepted = get_invitation.sync(partner.id, invitation.id, client=dashboard)
    assert isinstance(accepted, InvitationModel)
    assert accepted.status.value == "accepted"
    me = get_me.sync(client=app)
    assert isinstance(me, Me)
    assert [b.id for b in me.businesses] == [business.id]

    junk = preview_invitation.sync(client=app, body=GrantRequest(token="not-one-of-ours"))
    assert isinstance(junk, Problem)
    assert (junk.status, junk.code) == (400, "token_invalid")
