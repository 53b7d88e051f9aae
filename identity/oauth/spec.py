"""Typed doors to the parts of Authlib's spec modules the authorization server relies on.

Authlib is untyped; everything it is asked lives here so the rest of the package stays checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.common.urls import add_params_to_uri as _add_params_to_uri
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7591 import ClientMetadataClaims
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge as _compare_s256
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc.errors import JoseError

from switchboard.identity.oauth.errors import OAuthError, invalid_client


def add_params_to_uri(uri: str, params: list[tuple[str, str]]) -> str:
    return str(_add_params_to_uri(uri, params))


def error_description(text: str) -> str:
    """``text`` as an ``error_description`` may be (RFC 6749 §4.1.2.1: printable ASCII without ``"`` or
    ``\\``): typographic quotes become plain ones, anything else outside the set is dropped."""
    text = text.translate({0x201C: "'", 0x201D: "'", 0x2018: "'", 0x2019: "'"})
    return "".join(c for c in text if " " <= c <= "~" and c not in '"\\')


def basic_credentials(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from an ``Authorization: Basic`` header (percent-decoded, RFC 6749
    §2.3.1), whatever the case of the header's name: servers lower-case names, Authlib looks up
    ``Authorization``. (None, None) without Basic credentials; malformed ones are ``invalid_client``."""
    authorization = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    if authorization[:6].lower() != "basic ":
        return None, None
    try:
        client_id, secret = extract_basic_authorization({"Authorization": authorization})
    except ValueError:  # not UTF-8 once decoded
        client_id, secret = None, None
    if not client_id:
        raise invalid_client("The Authorization header is not valid HTTP Basic credentials.", basic=True)
    return client_id, secret


def valid_code_challenge(challenge: str) -> bool:
    return CODE_CHALLENGE_PATTERN.match(challenge) is not None


def verify_pkce(code_verifier: str, code_challenge: str) -> bool:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge, with a well-formed verifier."""
    if not CODE_VERIFIER_PATTERN.match(code_verifier):
        return False
    return bool(_compare_s256(code_verifier, code_challenge))


def validate_client_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7591 §2 checks on registered client metadata; returns it with defaults filled in."""
    claims = ClientMetadataClaims(dict(metadata), {})
    try:
        claims.validate()
    except JoseError as exc:
        field = getattr(exc, "claim", "") or ""
        message = f"{field}: {exc.description}" if field else str(exc.description)
        raise OAuthError("invalid_client_metadata", message) from None
    return dict(claims)


def validate_server_metadata(metadata: Mapping[str, Any]) -> None:
    """RFC 8414 §2 checks on the metadata document this server publishes (run by the tests)."""
    AuthorizationServerMetadata(dict(metadata)).validate()
