"""The protected resources tokens can be issued for (RFC 8707): Switchboard's MCP servers.

The MCP layer, above identity, provides the directory; identity only asks it what a resource URL is and
whether a user may use it, at consent time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol
from uuid import UUID

import msgspec

from switchboard.identity.oauth.errors import invalid_target


class ProtectedResource(msgspec.Struct, frozen=True):
    url: str
    name: str
    scopes: tuple[str, ...] = ()


class ResourceDirectory(Protocol):
    async def find(self, url: str) -> ProtectedResource | None:
        """The resource at exactly ``url``, or None when this server knows no such resource."""

    async def access_problem(self, resource: ProtectedResource, user_id: UUID) -> str | None:
        """Why the user may not use the resource (shown on the consent page), or None when they may."""


class StaticResources:
    """A fixed list of resources, anyone may use them (tests, and until MCP servers exist)."""

    def __init__(self, resources: list[ProtectedResource] | None = None) -> None:
        self._resources = {resource.url: resource for resource in resources or []}

    def add(self, resource: ProtectedResource) -> None:
        self._resources[resource.url] = resource

    async def find(self, url: str) -> ProtectedResource | None:
        return self._resources.get(url)

    async def access_problem(self, resource: ProtectedResource, user_id: UUID) -> str | None:
        return None


async def requested_resource(
    directory: ResourceDirectory, params: Mapping[str, Sequence[str]]
) -> ProtectedResource | None:
    """The one resource a request names (RFC 8707 §2), if any; an unknown one is ``invalid_target``."""
    named = params.get("resource") or []
    if len(named) > 1:
        raise invalid_target("Ask for one resource per request.")
    if not named:
        return None
    resource = await directory.find(named[0])
    if resource is None:
        raise invalid_target("The requested resource is not known to this server.")
    return resource
