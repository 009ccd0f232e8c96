"""The background loops' housekeeping: settled emails go after MAIL_KEEP_DAYS, and
a loop stops when asked."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from api.background import Background
from api.mail.outbox import forget_settled_mail
from api.services.context import utcnow
from db.claims import keep_claiming
from db.tables import AccessNotice, Invitation, MailOutbox
from tests.conftest import Runner
from tests.support import Api, Caller, until


def test_settled_mail_is_deleted_after_the_keep_days_and_the_record_stays(
    api: Api, owner: Caller, partner: str, db: Runner
) -> None:
    long_ago = utcnow() - timedelta(days=31)

    def sent_long_ago(table: type[MailOutbox] | type[AccessNotice]) -> None:
        until(lambda: db(lambda: table.exists().where(table.status == "sent")))
        db(lambda: table.update({table.created_at: long_ago}, force=True))

    _, invitation = api.invited_client(owner, partner)
    sent_long_ago(MailOutbox)  # before the accept: an email not out by then is not sent
    api.accept(api.user(), invitation)  # its admin is told that the partner has access
    sent_long_ago(AccessNotice)

    def counts() -> tuple[int, int]:
        return db(lambda: MailOutbox.count()), db(lambda: AccessNotice.count())

    db(lambda: forget_settled_mail(timedelta(days=32)))
    assert counts() == (1, 1)  # not yet
    db(lambda: forget_settled_mail(timedelta(days=30)))
    assert counts() == (0, 0)
    row = db(
        lambda: (
            Invitation.select(Invitation.email_status)
            .where(Invitation.id == invitation["id"])
            .first()
        )
    )
    assert row["email_status"] == "sent"


def test_a_periodic_job_stops_as_soon_as_it_is_asked(api: Api) -> None:
    async def scenario() -> int:
        bg = Background(api.ctx, None)
        runs = 0

        async def job() -> None:
            nonlocal runs
            runs += 1

        task = asyncio.create_task(bg.every(3600, job))
        await asyncio.sleep(0.05)
        bg.stopping.set()
        await asyncio.wait_for(task, 1)
        return runs

    assert asyncio.run(scenario()) == 1


def test_work_queued_while_a_claim_runs_is_claimed_at_once() -> None:
    """A commit that queues work sets `wake` while a claim (that may not see the new row)
    is running: the next claim comes at once, not after the idle poll."""

    async def scenario() -> list[int]:
        wake, stopping = asyncio.Event(), asyncio.Event()
        calls: list[int] = []

        async def run_once() -> int:
            calls.append(len(calls))
            if len(calls) == 1:
                wake.set()  # queued during the first claim, which took nothing
            else:
                stopping.set()
            return 0

        await asyncio.wait_for(keep_claiming("test", run_once, wake, stopping, idle_poll=60), 5)
        return calls

    assert asyncio.run(scenario()) == [0, 1]
