"""Database rows as contract Structs (`api.services.views`)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from api.services.views import from_row
from mobile_contract import models

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_a_row_becomes_a_struct_by_column_names() -> None:
    link_id, partner, business = uuid4(), uuid4(), uuid4()
    row = {
        "id": link_id,
        "partner": partner,
        "business": business,
        "client": uuid4(),  # a column the model has no field for
        "access_level": "full",
        "status": "active",
        "created_at": NOW,
        "revoked_at": None,
    }
    link = from_row(models.Link, row, partner_name="Accountants & Co")
    assert link == models.Link(
        id=link_id,
        partner_id=partner,
        business_id=business,
        access_level="full",
        status="active",
        created_at=NOW,
        revoked_at=None,
        partner_name="Accountants & Co",
    )
    revoked = from_row(models.Link, row, status="revoked", partner_name=None)
    assert revoked.status == "revoked" and revoked.partner_name is None
    with pytest.raises(KeyError, match="partner_name"):
        from_row(models.Link, row)  # a field with a default is not quietly left at it
