"""Apply the checked-in Piccolo migrations (the app does this at start)."""

from __future__ import annotations

import contextlib
import io

from db.piccolo_conf import DB


class MigrationError(RuntimeError):
    pass


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    if DB.engine_type == "sqlite":
        # WAL lets readers go on while one writer commits; the setting is stored in the file.
        await DB.run_ddl("PRAGMA journal_mode=WAL")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = await run_forwards(app_name="invites")
    if not result.success:
        raise MigrationError(f"migrations failed: {result.message}\n{output.getvalue()}")
