"""A connection's OAuth endpoints: the connector's URL templates filled with the connection's fields."""

from __future__ import annotations

from switchboard.connectors.connections.models import Connection
from switchboard.connectors.connections.provider import Endpoints
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.definitions.model import PLACEHOLDER
from switchboard.platform.core.errors import NotFound


def fill(template: str, values: dict[str, str]) -> str:
    """A URL template with the connection's field values in place of ``{field}``."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)


def endpoints_for(connection: Connection, definition: ConnectorDefinition) -> Endpoints:
    provider = definition.provider
    if provider is None:
        raise NotFound(f"{definition.name} has no OAuth provider.", field="connector")
    values = connection.fields
    resource = ""
    if provider.send_resource:
        resource = fill(provider.resource, values) or fill(definition.base_url, values)
    return Endpoints(
        app_name=definition.name,
        authorize_url=fill(provider.authorize_url, values),
        token_url=fill(provider.token_url, values),
        revocation_url=fill(provider.revocation_url, values),
        userinfo_url=fill(provider.userinfo_url, values),
        issuer=fill(provider.issuer, values),
        scope_separator=provider.scope_separator,
        extra_authorize_params=provider.extra_authorize_params,
        auth_method=provider.token_endpoint_auth_method,
        resource=resource,
        require_iss=provider.require_iss,
    )
