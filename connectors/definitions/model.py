"""What a connector is: a declarative description of a third-party API.

A definition is data (YAML or JSON, built in, dropped in a folder, pasted in the console, or made from an
OpenAPI document); ``load_definition`` checks it and names the offending field when it is wrong.

URL templates (``base_url`` and the OAuth provider's URLs) may use ``{field}`` placeholders naming the
connector's connection fields, so one definition serves every instance of an app
(``{host}/oauth/authorize``). Action paths use ``{input}`` placeholders naming the action's inputs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

KEY_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

Key = Annotated[str, msgspec.Meta(pattern=KEY_PATTERN, description="lower-case letters, digits, - and _")]
ActionName = Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
TokenEndpointAuthMethod = Literal["client_secret_basic", "client_secret_post"]


class ConnectionField(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A value a builder enters on a connection (not a credential), such as the app's Host.

    ``url`` fields must be absolute https URLs (http only for loopback hosts), without query or fragment.
    """

    key: ActionName
    label: Label
    kind: Literal["text", "url"] = "text"
    required: bool = True
    placeholder: Text = ""
    help: Text = ""
    default: Text = ""


class Scope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A scope the app knows, offered in the connection form's Scopes list."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")]
    description: Text = ""


class OAuthProvider(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The app's OAuth 2.0 authorization server, as its documentation describes it."""

    authorize_url: Text = ""
    token_url: Text
    revocation_url: Text = ""
    userinfo_url: Text = ""
    # Where the account's label is in the userinfo answer (a dotted path; the first present wins).
    account_label: tuple[str, ...] = ("email", "login", "preferred_username", "name", "sub")
    issuer: Text = ""
    scopes: tuple[Scope, ...] = ()
    default_scopes: tuple[str, ...] = ()
    scope_separator: Literal[" ", ",", "+"] = " "
    extra_authorize_params: dict[str, str] = {}
    token_endpoint_auth_method: TokenEndpointAuthMethod = "client_secret_basic"
    send_resource: bool = False
    # RFC 9207: the provider always names itself (``iss``) on the way back; an answer without it is refused.
    require_iss: bool = False
    resource: Text = ""


class NoAuth(msgspec.Struct, frozen=True, tag="none", forbid_unknown_fields=True):
    pass


class ApiKeyAuth(msgspec.Struct, frozen=True, kw_only=True, tag="api_key", forbid_unknown_fields=True):
    location: Literal["header", "query"] = "header"
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "X-API-Key"
    prefix: Annotated[str, msgspec.Meta(max_length=40)] = ""


class BearerAuth(msgspec.Struct, frozen=True, tag="bearer", forbid_unknown_fields=True):
    pass


class BasicAuth(msgspec.Struct, frozen=True, tag="basic", forbid_unknown_fields=True):
    pass


class AuthorizationCodeAuth(
    msgspec.Struct, frozen=True, kw_only=True, tag="oauth2_authorization_code", forbid_unknown_fields=True
):
    """OAuth 2.0 authorization code grant with PKCE S256: each end user (or the builder) connects."""

    provider: OAuthProvider


class ClientCredentialsAuth(
    msgspec.Struct, frozen=True, kw_only=True, tag="oauth2_client_credentials", forbid_unknown_fields=True
):
    provider: OAuthProvider


class TokenExchangeAuth(
    msgspec.Struct, frozen=True, kw_only=True, tag="oauth2_token_exchange", forbid_unknown_fields=True
):
    """RFC 8693: the caller's Switchboard identity (a JWT Switchboard signs) is exchanged for an app token.

    ``audience`` names the app for the subject token and the exchange; the app must trust Switchboard's
    issuer and keys (``/oauth/jwks``).
    """

    provider: OAuthProvider
    audience: Text = ""
    requested_token_type: Text = "urn:ietf:params:oauth:token-type:access_token"


Auth = (
    NoAuth
    | ApiKeyAuth
    | BearerAuth
    | BasicAuth
    | AuthorizationCodeAuth
    | ClientCredentialsAuth
    | TokenExchangeAuth
)
AUTH_TYPES: dict[str, str] = {
    "none": "No authentication",
    "api_key": "API key",
    "bearer": "Bearer token",
    "basic": "Basic (user name and password)",
    "oauth2_authorization_code": "OAuth 2.0 authorization code grant",
    "oauth2_client_credentials": "OAuth 2.0 client credentials",
    "oauth2_token_exchange": "OAuth 2.0 token exchange (RFC 8693)",
}
OAUTH_AUTH = AuthorizationCodeAuth | ClientCredentialsAuth | TokenExchangeAuth


class RequestMapping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where each input goes. Path placeholders take the input of the same name.

    ``query``, ``headers`` and ``body_fields`` map a parameter (or header, or body key) to an input name;
    ``body_from`` names one input whose value is the whole body.
    """

    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    body: Literal["none", "json", "form"] = "none"
    body_fields: dict[str, str] = {}
    body_from: str = ""


class OutputMapping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the result is taken from the response: ``select`` is a dotted path into the JSON answer
    (empty: all of it); ``pick`` keeps only these keys of an object, or of each object in a list."""

    select: str = ""
    pick: tuple[str, ...] = ()


class Action(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: ActionName
    title: Label
    description: Text = ""
    method: HttpMethod = "GET"
    path: Text = ""
    input_schema: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})
    request: RequestMapping = RequestMapping()
    output: OutputMapping = OutputMapping()
    # Safe to repeat after a timeout or 5xx (GET is always treated as idempotent).
    idempotent: bool = False
    # The generic HTTP connector's action: method, url, headers, query and body come from the inputs.
    raw_http: bool = False
    # A remote MCP server's tool, called by this name (the action name is its name made safe).
    mcp_tool: Text = ""

    @property
    def is_idempotent(self) -> bool:
        return self.idempotent or self.method == "GET"


class RemoteMcp(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The connector is a remote MCP server: its actions are the server's tools, called over MCP.

    Written only by Switchboard from a remote server's settings (``connectors.remote``), never by hand:
    ``allow_private`` is an admin's decision.
    """

    endpoint: Text
    allow_private: bool = False


class ConnectorDefinition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: Key
    name: Label
    description: Text = ""
    # An emoji, or an https URL of an image.
    icon: Annotated[str, msgspec.Meta(max_length=500)] = "🔌"
    docs_url: Text = ""
    base_url: Text = ""
    # Sent with every request, such as an Accept header or an API version the app asks for.
    headers: dict[str, str] = {}
    fields: tuple[ConnectionField, ...] = ()
    auth: Auth = NoAuth()
    actions: tuple[Action, ...] = ()
    mcp: RemoteMcp | None = None

    def action(self, name: str) -> Action | None:
        return next((action for action in self.actions if action.name == name), None)

    def field(self, key: str) -> ConnectionField | None:
        return next((field for field in self.fields if field.key == key), None)

    @property
    def provider(self) -> OAuthProvider | None:
        return self.auth.provider if isinstance(self.auth, OAUTH_AUTH) else None

    @property
    def auth_type(self) -> str:
        return type(self.auth).__struct_config__.tag or "none"  # type: ignore[return-value]

    @property
    def known_scopes(self) -> tuple[Scope, ...]:
        provider = self.provider
        return provider.scopes if provider else ()
