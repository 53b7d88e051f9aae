"""Route guards: signed in; signed in as a builder (or admin); signed in as an owner or admin."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import NotAuthenticated, PermissionDenied


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthenticated("Sign in to continue.")
    return principal


def requires_sign_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    current_principal(connection)


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not current_principal(connection).is_admin:
        raise PermissionDenied("Only owners and admins can open this.")


def requires_builder(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Connectors, projects, connections (and recipes) are the builders' (and admins') work."""
    if not current_principal(connection).can_build:
        raise PermissionDenied("Only builders and admins can open this.")
