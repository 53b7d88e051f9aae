"""Connector definitions: the model, and loading it from YAML or JSON."""

from switchboard.connectors.definitions.loading import (
    DefinitionError,
    dump_definition,
    is_acceptable_url,
    load_definition,
    parse_document,
)
from switchboard.connectors.definitions.model import (
    AUTH_TYPES,
    Action,
    ApiKeyAuth,
    AuthorizationCodeAuth,
    BasicAuth,
    BearerAuth,
    ClientCredentialsAuth,
    ConnectionField,
    ConnectorDefinition,
    NoAuth,
    OAuthProvider,
    OutputMapping,
    RequestMapping,
    Scope,
    TokenExchangeAuth,
)

__all__ = [
    "AUTH_TYPES",
    "Action",
    "ApiKeyAuth",
    "AuthorizationCodeAuth",
    "BasicAuth",
    "BearerAuth",
    "ClientCredentialsAuth",
    "ConnectionField",
    "ConnectorDefinition",
    "DefinitionError",
    "NoAuth",
    "OAuthProvider",
    "OutputMapping",
    "RequestMapping",
    "Scope",
    "TokenExchangeAuth",
    "dump_definition",
    "is_acceptable_url",
    "load_definition",
    "parse_document",
]
