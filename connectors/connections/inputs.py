"""What a connection form or API call asks for, checked and put in the shape it is stored in: the auth
type, scopes, field values, the credentials it needs, and the private origins an admin allows."""

from __future__ import annotations

from typing import Any

from switchboard.connectors.action_requests import fill_template, url_problem
from switchboard.connectors.connections.endpoints import fill
from switchboard.connectors.connections.models import (
    END_USER_AUTH_TYPES,
    PERSONAL_AUTH_TYPES,
    SHARED_AUTH_TYPES,
    Connection,
    ConnectionInput,
    Credentials,
    Mode,
)
from switchboard.connectors.definitions import ConnectorDefinition, is_acceptable_url
from switchboard.identity.principal import Actor
from switchboard.platform.core.errors import InvalidInput, PermissionDenied
from switchboard.platform.core.safe_fetch import FetchPolicy, FetchRefused, checked_url, origin

# The generic HTTP connector takes its auth from the connection rather than from its definition.
GENERIC_CONNECTORS = frozenset({"http"})
# Generic connectors have no OAuth provider of their own, so only these make sense for them.
GENERIC_AUTH_TYPES = ("none", "api_key", "bearer", "basic")
SECRET_FIELDS = ("client_secret", "api_key", "token", "password")


def auth_type_of(data: ConnectionInput, definition: ConnectorDefinition) -> str:
    """The connector decides the auth type, except for generic connectors, where the connection does."""
    if definition.key in GENERIC_CONNECTORS:
        auth_type = data.auth_type or "none"
        if auth_type not in GENERIC_AUTH_TYPES:
            raise InvalidInput(
                f"{definition.name} connections use one of: {', '.join(GENERIC_AUTH_TYPES)}.",
                field="auth_type",
            )
    else:
        auth_type = definition.auth_type
        if data.auth_type and data.auth_type != auth_type:
            raise InvalidInput(f"{definition.name} connections use {auth_type}.", field="auth_type")
    allowed: tuple[str, ...] = END_USER_AUTH_TYPES if data.mode is Mode.END_USER else SHARED_AUTH_TYPES
    if definition.key in GENERIC_CONNECTORS and data.mode is Mode.END_USER:
        # Its auth comes from the connection, so each person's key would have no place named to go in.
        allowed = tuple(kind for kind in allowed if kind not in PERSONAL_AUTH_TYPES)
    if auth_type not in allowed:
        if data.mode is Mode.END_USER and definition.key in GENERIC_CONNECTORS:
            raise InvalidInput(
                "An end user's connection needs an OAuth 2.0 authorization code grant (or token exchange); "
                f"{definition.name} does not offer one.",
                field="mode",
            )
        if data.mode is Mode.END_USER:
            raise InvalidInput(
                "An end user's connection needs an OAuth 2.0 authorization code grant, token exchange, an "
                f"API key or a user name and password that each person enters; {definition.name} uses "
                f"{auth_type}, which only a shared connection can use.",
                field="mode",
            )
        raise InvalidInput(
            f'{definition.name} connections are made by each end user; choose "End user\'s connection".',
            field="mode",
        )
    return auth_type


def clean_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """Scopes in the order chosen, without repeats; free entry allowed, one scope per item."""
    seen: list[str] = []
    for item in scopes:
        for scope in item.replace(",", " ").split():
            if len(scope) > 200 or not all(0x21 <= ord(char) <= 0x7E and char not in '"\\' for char in scope):
                raise InvalidInput(f"{scope[:40]!r} is not a valid scope.", field="scopes")
            if scope not in seen:
                seen.append(scope)
    if len(seen) > 50:
        raise InvalidInput("A connection can ask for at most 50 scopes.", field="scopes")
    return tuple(seen)


def clean_fields(values: dict[str, str], definition: ConnectorDefinition) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key in values:
        if definition.field(key) is None:
            raise InvalidInput(f"{definition.name} has no field {key!r}.", field=f"fields.{key}")
    for field in definition.fields:
        value = (values.get(field.key) or "").strip() or field.default
        if field.kind == "url":
            value = value.rstrip("/")
            problem = url_problem(value) if value else None
            if problem:
                raise InvalidInput(f"{field.label} cannot be used: {problem}.", field=f"fields.{field.key}")
            if value and not is_acceptable_url(value):
                raise InvalidInput(
                    f"{field.label} must be an https URL such as {field.placeholder or 'https://app.example.com'}.",
                    field=f"fields.{field.key}",
                )
        if field.required and not value:
            raise InvalidInput(f"Enter the {field.label}.", field=f"fields.{field.key}")
        if len(value) > 500:
            raise InvalidInput(f"{field.label} is too long.", field=f"fields.{field.key}")
        clean[field.key] = value
    return clean


def private_allowance(
    data: ConnectionInput, definition: ConnectorDefinition, current: Connection | None, actor: Actor
) -> tuple[str, ...]:
    """The origins the connection may reach on private addresses: granting or withdrawing the allowance
    is an admin's decision; while it holds, it covers the origins the connection had when an admin last
    saved it, and a builder's change that would point it at another is refused."""
    approved = current.private_origins if current is not None else ()
    wanted = bool(approved) if data.allow_private is None else data.allow_private
    if wanted != bool(approved):
        actor.require_admin()
    if not wanted:
        return ()
    origins = _origins(data, definition)
    if not origins:
        raise InvalidInput(
            f"{data.name} names no address of its own to allow onto private addresses; enter its URL first.",
            field="allow_private",
        )
    if approved and not set(origins) <= set(approved) and not actor.is_admin:
        raise PermissionDenied(
            f"An admin allowed {current.name if current else data.name} onto private addresses at "
            f"{', '.join(approved)} only; only owners and admins can change where it connects.",
            field="fields",
        )
    return origins


def _origins(data: ConnectionInput, definition: ConnectorDefinition) -> tuple[str, ...]:
    """The origins of the URLs Switchboard calls for the connection: its base URL, its OAuth endpoints (not
    the authorize URL: a browser goes there), and its URL fields, filled in as the calls fill them."""
    values = data.fields
    urls = [
        fill_template(definition, definition.base_url, values),
        *(values.get(field.key, "") for field in definition.fields if field.kind == "url"),
    ]
    provider = definition.provider
    if provider is not None:
        urls += [
            fill(template, values)
            for template in (provider.token_url, provider.revocation_url, provider.userinfo_url)
        ]
    found: list[str] = []
    for url in urls:
        try:
            found.append(origin(checked_url(url, FetchPolicy(require_https=False))))
        except FetchRefused:
            continue  # empty, or no URL to call: nothing to allow
    return tuple(dict.fromkeys(found))


def require_credentials(data: ConnectionInput) -> None:
    needs: dict[str, tuple[tuple[str, str], ...]] = {
        "oauth2_authorization_code": (("client_id", "Client ID"),),
        "oauth2_client_credentials": (("client_id", "Client ID"), ("client_secret", "Client secret")),
        "oauth2_token_exchange": (("client_id", "Client ID"),),
        "api_key": (("api_key", "API key"),),
        "bearer": (("token", "Token"),),
        "basic": (("username", "User name"), ("password", "Password")),
    }
    if data.mode is Mode.END_USER and data.auth_type in PERSONAL_AUTH_TYPES:
        return  # each person enters their own key or login under My connections
    for field, label in needs.get(data.auth_type, ()):
        if not getattr(data, field):
            raise InvalidInput(f"Enter the {label}.", field=field)


def stored_settings(data: ConnectionInput) -> dict[str, Any]:
    return {
        "client_id": data.client_id,
        "username": data.username,
        "scopes": list(data.scopes),
        "fields": data.fields,
    }


def stored_credentials(data: ConnectionInput) -> Credentials:
    return Credentials(
        client_secret=data.client_secret, api_key=data.api_key, token=data.token, password=data.password
    )
