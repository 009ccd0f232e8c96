"""OpenAPI details Litestar does not derive by itself, and the documentation page."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request, Router
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router
from openapi_ui_bundles import swagger_ui

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Request bodies refuse unknown fields (`forbid_unknown_fields`); say so in the schema
    (`additionalProperties: false`), so that clients and fuzzers know."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


class OfflineSwaggerPlugin(OpenAPIRenderPlugin):
    """Interactive documentation (Swagger UI) at `/schema`, working with no network.

    Litestar's own UI plugins load their scripts from a CDN; here the assets come from the
    `openapi-ui-bundles` package and are served by this app under `/schema/assets`, and
    the online validator badge is off, so the page loads nothing from another origin.
    """

    ASSETS = "assets"

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="")

    def receive_router(self, router: Router) -> None:
        router.register(
            create_static_files_router(
                path=f"/{self.ASSETS}",
                directories=[swagger_ui.static_path],
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=3600, public=True),
            )
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        schema_url = self.get_openapi_json_route(request)
        assets = f"{schema_url.rsplit('/', 1)[0]}/{self.ASSETS}"
        title = html.escape(str(openapi_schema["info"]["title"]))
        config = json.dumps(
            {
                "url": schema_url,
                "dom_id": "#docs",
                "deepLinking": True,
                "displayOperationId": True,
                "validatorUrl": None,
                "layout": "BaseLayout",
            }
        )
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
const config = {config};
config.presets = [SwaggerUIBundle.presets.apis];
window.ui = SwaggerUIBundle(config);
</script>
</body>
</html>
""".encode()
