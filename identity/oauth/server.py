"""The authorization server as pages, controllers and the command line see it: one object composing the
endpoints, each of which lives in its own module.

``authorization_endpoint`` (RFC 6749 §4.1.1), ``token_endpoint`` (§3.2) with one module per grant in
``grants``, ``revocation`` (RFC 7009), ``introspection`` (RFC 7662), ``registration`` (RFC 7591) and
``server_metadata`` (RFC 8414). Every endpoint is async and does its own database work; Authlib
contributes the spec rules through ``spec``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth.authorization_endpoint import AuthorizationEndpoint, AuthorizationRequest
from switchboard.identity.oauth.client_authentication import ClientAuthenticator
from switchboard.identity.oauth.clients import ClientService
from switchboard.identity.oauth.consent import ConsentService
from switchboard.identity.oauth.errors import ReturnTo
from switchboard.identity.oauth.grants.authorization_code import AuthorizationCodeGrant
from switchboard.identity.oauth.grants.client_credentials import ClientCredentialsGrant
from switchboard.identity.oauth.grants.refresh_token import RefreshTokenGrant
from switchboard.identity.oauth.introspection import IntrospectionEndpoint
from switchboard.identity.oauth.keys import SigningKeys
from switchboard.identity.oauth.parameters import RequestContext
from switchboard.identity.oauth.rate_limits import EndpointLimits, RateLimits
from switchboard.identity.oauth.registration import RegistrationEndpoint
from switchboard.identity.oauth.resources import ResourceDirectory
from switchboard.identity.oauth.revocation import RevocationEndpoint
from switchboard.identity.oauth.revocation_list import RevocationList
from switchboard.identity.oauth.server_metadata import server_metadata
from switchboard.identity.oauth.token_endpoint import TokenEndpoint
from switchboard.identity.oauth.tokens import Lifetimes, TokenIssuer, TokenResponse
from switchboard.identity.oauth.verifier import TokenVerifier


class AuthorizationServer:
    def __init__(
        self,
        *,
        issuer: str,
        clients: ClientService,
        consents: ConsentService,
        keys: SigningKeys,
        revocations: RevocationList,
        verifier: TokenVerifier,
        audit: AuditLog,
        resources: ResourceDirectory,
        lifetimes: Lifetimes,
        limits: RateLimits,
    ) -> None:
        self.issuer = issuer
        self.clients = clients
        self.consents = consents
        self.keys = keys
        self.revocations = revocations
        self.verifier = verifier
        self.audit = audit
        self.resources = resources
        self.lifetimes = lifetimes
        self.limits = limits
        endpoint_limits = EndpointLimits(limits)
        authenticator = ClientAuthenticator(clients.store)
        tokens = TokenIssuer(issuer=issuer, keys=keys, lifetimes=lifetimes)
        self.authorization_endpoint = AuthorizationEndpoint(
            issuer=issuer,
            clients=clients.store,
            metadata_documents=clients.metadata_documents,
            resources=resources,
            audit=audit,
            lifetimes=lifetimes,
            limits=endpoint_limits,
        )
        self.token_endpoint = TokenEndpoint(
            authenticator=authenticator,
            clients=clients.store,
            grants={
                "authorization_code": AuthorizationCodeGrant(tokens=tokens, revocations=revocations),
                "refresh_token": RefreshTokenGrant(
                    tokens=tokens, revocations=revocations, reuse_grace=lifetimes.refresh_reuse_grace
                ),
                "client_credentials": ClientCredentialsGrant(tokens=tokens, resources=resources),
            },
            audit=audit,
            limits=endpoint_limits,
        )
        self.revocation_endpoint = RevocationEndpoint(
            authenticator=authenticator, verifier=verifier, revocations=revocations, audit=audit
        )
        self.introspection_endpoint = IntrospectionEndpoint(
            issuer=issuer, authenticator=authenticator, verifier=verifier
        )
        self.registration_endpoint = RegistrationEndpoint(
            registration=clients.registration, limits=endpoint_limits
        )

    def metadata(self) -> dict[str, Any]:
        return server_metadata(self.issuer)

    async def validate_authorization(
        self, params: Mapping[str, Sequence[str]], *, ip_address: str = ""
    ) -> AuthorizationRequest:
        return await self.authorization_endpoint.validate(params, ip_address=ip_address)

    def redirect_with(self, redirect_uri: str, state: str | None, **params: str) -> str:
        return self.authorization_endpoint.redirect_with(redirect_uri, state, **params)

    def return_to(self, request: AuthorizationRequest, description: str) -> ReturnTo:
        """The way back to the client of ``request``, telling it the person was refused."""
        return self.authorization_endpoint.return_to(
            request.client, request.redirect_uri, request.state, description
        )

    async def issue_code(self, request: AuthorizationRequest, *, user_id: UUID) -> str:
        return await self.authorization_endpoint.issue_code(request, user_id=user_id)

    async def token(self, context: RequestContext) -> TokenResponse:
        return await self.token_endpoint.token(context)

    async def revoke(self, context: RequestContext) -> None:
        await self.revocation_endpoint.revoke(context)

    async def introspect(self, context: RequestContext) -> dict[str, Any]:
        return await self.introspection_endpoint.introspect(context)

    async def register(self, body: Any, *, ip_address: str) -> dict[str, Any]:
        return await self.registration_endpoint.register(body, ip_address=ip_address)
