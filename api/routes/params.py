"""Typed markers for what handlers receive: the service context, the user, path ids."""

from typing import TypeAlias
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import FromPath

from api.services.context import Context
from mobile_contract.models import User

Ctx: TypeAlias = NamedDependency[Context]
CurrentUser: TypeAlias = NamedDependency[User]
PathId: TypeAlias = FromPath[UUID]
PathStr: TypeAlias = FromPath[str]
