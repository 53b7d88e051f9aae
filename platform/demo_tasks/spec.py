"""Typed doors to the parts of Authlib's spec modules Demo Tasks' authorization server relies on.

Authlib is untyped; what it is asked lives here so the rest of the package stays checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from authlib.common.urls import add_params_to_uri as _add_params_to_uri
from authlib.oauth2.rfc6749.util import extract_basic_authorization, list_to_scope, scope_to_list
from authlib.oauth2.rfc7636.challenge import (
    CODE_CHALLENGE_PATTERN,
    CODE_VERIFIER_PATTERN,
    create_s256_code_challenge,
)
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from switchboard.platform.demo_tasks.errors import invalid_client


def add_params_to_uri(uri: str, params: list[tuple[str, str]]) -> str:
    return str(_add_params_to_uri(uri, params))


def parse_scope(scope: str | None) -> tuple[str, ...]:
    """RFC 6749 §3.3: space-delimited, order irrelevant; duplicates dropped, first spelling kept."""
    return tuple(dict.fromkeys(scope_to_list(scope) or ()))


def join_scope(scopes: Iterable[str]) -> str:
    return str(list_to_scope(list(scopes)))


def basic_credentials(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from ``Authorization: Basic`` (percent-decoded, RFC 6749 §2.3.1);
    (None, None) without Basic credentials; malformed ones are ``invalid_client``."""
    authorization = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    if authorization[:6].lower() != "basic ":
        return None, None
    try:
        client_id, secret = extract_basic_authorization({"Authorization": authorization})
    except ValueError:  # not UTF-8 once decoded
        client_id, secret = None, None
    if not client_id or secret is None:
        raise invalid_client("The Authorization header is not valid HTTP Basic credentials.", basic=True)
    return str(client_id), str(secret)


def valid_code_challenge(challenge: str) -> bool:
    # fullmatch: the pattern's ``$`` would also accept a trailing newline.
    return CODE_CHALLENGE_PATTERN.fullmatch(challenge) is not None


def verify_pkce(code_verifier: str, code_challenge: str) -> bool:
    """RFC 7636 §4.6, S256: BASE64URL(SHA256(verifier)) == challenge, with a well-formed verifier."""
    if not CODE_VERIFIER_PATTERN.fullmatch(code_verifier):
        return False
    return secrets.compare_digest(str(create_s256_code_challenge(code_verifier)), code_challenge)


def validate_server_metadata(metadata: Mapping[str, Any]) -> None:
    """RFC 8414 §2 checks on the metadata document (run by the tests)."""
    AuthorizationServerMetadata(dict(metadata)).validate()
