"""Verifying access tokens: what a resource server (the MCP layer) does on every request.

Checked on every request, in memory: that the key the token names is still one this server verifies
with (a retired key's tokens fail as soon as this process reads that it has gone), the issuer, the
audience, expiry and revocation. The signature, ``typ`` and claims are checked once per token per
process: a token that passed is remembered (``verified_tokens``) with the key that verified it, until it
expires, and checked again if that key is read anew. The database is read only for the signing keys (a
new one at once, the others every minute) and, at most twice a second or after this process revoked
something, for new revocations.
"""

from __future__ import annotations

import time

import msgspec
from joserfc import jws
from joserfc.errors import JoseError

from switchboard.identity.oauth.keys import ALGORITHM, SigningKeys
from switchboard.identity.oauth.revocation_list import RevocationList
from switchboard.identity.oauth.verified_tokens import Verified, VerifiedTokens

_LEEWAY = 30
_MAX_TOKEN = 8192
# Some 10 MB at most: the claims of ten thousand tokens in use at once, about 1 KB each.
_CACHE_SIZE = 10_000


class InvalidToken(Exception):
    """The bearer token cannot be used; the message says why (for logs and WWW-Authenticate)."""


class AccessToken(msgspec.Struct, frozen=True):
    subject: str
    client_id: str
    audience: str
    scopes: tuple[str, ...]
    token_id: str
    grant_id: str
    expires_at: int


class _Claims(msgspec.Struct, frozen=True):
    iss: str
    sub: str
    aud: str | list[str]
    client_id: str
    exp: int
    iat: int
    jti: str
    scope: str = ""
    gid: str = ""


_decode_claims = msgspec.json.Decoder(_Claims).decode


class TokenVerifier:
    def __init__(
        self, issuer: str, keys: SigningKeys, revocations: RevocationList, *, cache_size: int = _CACHE_SIZE
    ) -> None:
        self._issuer = issuer
        self._keys = keys
        self._revocations = revocations
        self._verified: VerifiedTokens[_Claims] = VerifiedTokens(cache_size)

    async def verify(self, token: str, *, audience: str | None) -> AccessToken:
        """The token's claims, when it is valid for ``audience``; else ``InvalidToken``.

        ``audience=None`` accepts any audience: only for this server's own revocation and introspection.
        """
        if len(token) > _MAX_TOKEN:
            raise InvalidToken("the token is not a JWT")
        now = time.time()
        verified = self._verified.get(token, now)
        # The key that verified it must still be one this server verifies with, and the same one.
        if verified is None or await self._keys.verification_key(verified.kid) is not verified.key:
            verified = await self._verify_signature(token)
            self._verified.put(token, verified, now)
        claims = verified.claims
        if claims.iss != self._issuer:
            raise InvalidToken("the token was issued by another server")
        audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
        if audience is not None and audience not in audiences:
            raise InvalidToken("the token is meant for another resource")
        if claims.exp + _LEEWAY < now:
            raise InvalidToken("the token has expired")
        await self._revocations.refresh()
        if self._revocations.is_revoked(
            jti=claims.jti,
            grant_id=claims.gid,
            client_id=claims.client_id,
            subject=claims.sub,
            issued_at=claims.iat,
        ):
            raise InvalidToken("the token has been revoked")
        return AccessToken(
            subject=claims.sub,
            client_id=claims.client_id,
            audience=audience if audience is not None else audiences[0],
            scopes=tuple(claims.scope.split()),
            token_id=claims.jti,
            grant_id=claims.gid,
            expires_at=claims.exp,
        )

    async def _verify_signature(self, token: str) -> Verified[_Claims]:
        try:
            signed = jws.extract_compact(token.encode())
        except (JoseError, ValueError) as exc:
            raise InvalidToken("the token is not a JWT") from exc
        headers = signed.headers()
        kid = headers.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the token names no signing key")
        if headers.get("typ") != "at+jwt":
            raise InvalidToken("the token is not an access token")
        key = await self._keys.verification_key(kid)
        if key is None:
            raise InvalidToken("the token was not signed by a key of this server")
        try:
            valid = jws.validate_compact(signed, key, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise InvalidToken("the token's signature is invalid") from exc
        if not valid:
            raise InvalidToken("the token's signature is invalid")
        try:
            claims = _decode_claims(signed.payload)
        except msgspec.DecodeError as exc:
            raise InvalidToken("the token's claims are malformed") from exc
        return Verified(kid, key, claims, deadline=claims.exp + _LEEWAY)

    async def claims_if_valid(self, token: str) -> AccessToken | None:
        """A valid access token's claims whatever its audience, or None: for this server's own
        revocation and introspection endpoints."""
        try:
            return await self.verify(token, audience=None)
        except InvalidToken:
            return None
