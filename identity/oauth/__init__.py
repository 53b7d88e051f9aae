"""Switchboard's OAuth 2.1 authorization server: clients, grants, tokens, consent and their audit trail.

The HTTP endpoints are async and do their own database work; the protocol rules that Authlib implements
(PKCE, client metadata validation, metadata documents, basic credentials, URI building) are taken from
its spec modules through ``spec``. See docs/decisions/0003-authorization-server.md.
"""
