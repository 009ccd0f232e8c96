"""A real server process never writes an invitation token, access token or user code to
its log, in either log format."""

from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.support import Api, until


@pytest.mark.parametrize("server", ["live_server", "json_server"])
def test_secrets_never_reach_the_server_log(
    api: Api, server: str, request: pytest.FixtureRequest
) -> None:
    live_server: LiveServer = request.getfixturevalue(server)
    base = live_server.base_url
    anna, ben = api.user("anna"), api.user("ben")
    secrets: list[str] = []
    with httpx.Client(base_url=base, timeout=10) as http:

        def call(user: Any, method: str, url: str, **kwargs: Any) -> Any:
            response = http.request(method, url, headers=user.headers, **kwargs)
            assert response.status_code < 300, response.text
            return response.json()

        secrets += [anna.headers["Authorization"][7:], ben.headers["Authorization"][7:]]
        partner = call(anna, "POST", "/api/v1/partners", json={"name": "Acme"})["id"]
        clients = [
            call(
                anna,
                "POST",
                f"/api/v1/partners/{partner}/clients",
                json={"name": f"C{i}", "email": f"c{i}@x.example"},
            )
            for i in range(3)
        ]
        results = call(
            anna,
            "POST",
            f"/api/v1/partners/{partner}/invitations",
            json={"client_ids": [c["id"] for c in clients]},
        )["results"]
        tokens = [r["invitation"]["url"].rsplit("/i/", 1)[1] for r in results]
        secrets += tokens
        qr = call(
            anna,
            "POST",
            f"/api/v1/partners/{partner}/invitations/{results[1]['invitation']['id']}/qr-token",
        )
        secrets += [qr["token"], qr["user_code"], qr["user_code"].replace("-", "")]
        assert http.get(f"/i/{tokens[0]}/qr.png").status_code == 200
        assert http.get(f"/i/{tokens[0]}/qr.svg?scale=3").status_code == 200
        assert http.get(f"/i/{tokens[0]}xx/qr.png").status_code == 400
        call(ben, "POST", "/api/v1/mobile/invitations/preview", json={"token": tokens[0]})
        call(
            ben,
            "POST",
            "/api/v1/mobile/invitations/confirm",
            json={"token": tokens[0], "new_business": {"name": "B"}},
        )
        call(ben, "POST", "/api/v1/mobile/invitations/preview", json={"user_code": qr["user_code"]})
        call(ben, "POST", "/api/v1/mobile/invitations/decline", json={"token": tokens[2]})
        wrong = http.post(
            "/api/v1/mobile/invitations/preview",
            headers=ben.headers,
            json={"token": tokens[0][:-4] + "AAAA"},
        )
        assert wrong.status_code == 400
        http.get("/api/v1/me", headers={"Authorization": "Bearer " + tokens[1]})
        clients_path = f"/api/v1/partners/{partner}/clients"
        http.get(
            clients_path,
            params={"cursor": tokens[1]},
            headers=anna.headers,
        )

    # Request lines are written in batches: read once the last request's line is there.
    def written() -> str:
        text = live_server.log()
        return text if f"GET {clients_path} " in text else ""

    log = until(written)
    assert "GET /i/[redacted]/qr.png 200" in log
    assert "POST /api/v1/mobile/invitations/confirm 200" in log
    for secret in secrets:
        assert secret not in log
        assert secret.split(".")[-1] not in log  # not even a signature
