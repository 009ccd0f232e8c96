"""Piccolo configuration: the engine comes from `DATABASE_URL` (SQLite file by default).

`PICCOLO_CONF=db.piccolo_conf` must be set before anything imports `db.tables`.
"""

import os

from piccolo.conf.apps import AppRegistry

from db.url import DEFAULT_DATABASE_URL, engine_from_url

DB = engine_from_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)

APP_REGISTRY = AppRegistry(apps=["db.piccolo_app"])
