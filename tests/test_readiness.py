"""`readyz`: 503 once the change listener has been away for more than 5 s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api import listener


@pytest.fixture
def listener_away_since() -> Iterator[Any]:
    """Pretend this process's listener lost its connection at a given moment."""
    before = listener._down_since

    def set_at(seconds_ago: float) -> None:
        listener._down_since = time.monotonic() - seconds_ago

    yield set_at
    listener._down_since = before


def test_readyz_tolerates_a_short_listener_outage(
    test_client: TestClient[Any], listener_away_since: Any
) -> None:
    listener_away_since(2)
    assert test_client.get("/readyz").status_code == 200


def test_readyz_is_503_once_the_listener_is_away_for_more_than_5_seconds(
    test_client: TestClient[Any], listener_away_since: Any
) -> None:
    listener_away_since(6)
    response = test_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
