"""Piccolo configuration: the engine comes from `DATABASE_URL` (SQLite file by default).

`PICCOLO_CONF=db.piccolo_conf` must be set before anything imports `db.tables`.
"""

from piccolo.conf.apps import AppRegistry

from db.url import configured_url, engine_from_url

DB = engine_from_url(configured_url())
IS_POSTGRES = DB.engine_type == "postgres"

APP_REGISTRY = AppRegistry(apps=["db.piccolo_app"])
