"""Everything a running Switchboard shares: each area's services on one database, built from the settings.

The Litestar app (``platform/app.py``) is built from the settings alone and finds these per request in
``app.state.services``: its dependency providers, middleware and MCP routes read them from there, so the
services an app serves are the ones installed in it (``install``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING
from uuid import UUID

import httpx
import msgspec

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.housekeeping import sweep
from switchboard.identity.oauth.metadata_documents import MetadataFetcher
from switchboard.identity.oauth.resources import ProtectedResource, ResourceDirectory
from switchboard.platform.core.database import Database
from switchboard.platform.core.group_commit import GroupCommit
from switchboard.platform.core.ratelimit import BufferedCounts, RateLimiter
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo import give_everyone_demo_tasks_accounts
from switchboard.platform.housekeeping import Housekeeper
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.directory import McpResources
from switchboard.platform.mcp.endpoint import McpEndpoint
from switchboard.platform.mcp.hosting import mcp_endpoint
from switchboard.recipes.deps import RecipeServices

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.datastructures import State


class Services(msgspec.Struct, frozen=True, kw_only=True):
    settings: Settings
    database: Database
    identity: IdentityServices
    connectors: ConnectorServices
    recipes: RecipeServices
    mcp: McpServices
    endpoint: McpEndpoint
    request_counts: BufferedCounts
    housekeeper: Housekeeper
    writer: GroupCommit

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        database: Database | None = None,
        resources: ResourceDirectory | None = None,
        metadata_fetcher: MetadataFetcher | None = None,
        provider_transport: httpx.AsyncBaseTransport | None = None,
    ) -> Services:
        """``resources`` are what OAuth tokens can be issued for (RFC 8707); ``metadata_fetcher`` fetches
        client ID metadata documents (tests pass their own to inject faults); ``provider_transport``
        carries calls to third-party apps (tests inject faults with it)."""
        database = database or Database(settings.database_url, pool_size=settings.database_pool_size)
        # Identity first: every other area records through its one audit log. Its resources are the
        # MCP servers, made next; the directory reads them only when a request comes.
        servers_as_resources = _ServerResources()
        identity = IdentityServices.from_settings(
            settings, resources=resources or servers_as_resources, metadata_fetcher=metadata_fetcher
        )
        give_everyone_demo_tasks_accounts(settings, identity)
        mcp = McpServices.create(identity.oauth.audit)
        servers_as_resources.directory = McpResources(base_url=settings.base_url, servers=mcp.servers)
        connectors = ConnectorServices.from_settings(
            settings,
            audit=identity.oauth.audit,
            sign=identity.oauth.keys.sign_assertion,
            users=identity.users,
            transport=provider_transport,
        )
        recipes = RecipeServices.from_settings(settings, connectors=connectors, users=identity.users)
        # A tool call's run and audit rows, committed together with those of the calls beside it.
        writer = GroupCommit()
        recipes.runs.writer = mcp.calls.writer = writer
        request_counts = BufferedCounts()
        endpoint = mcp_endpoint(
            settings,
            servers=mcp.servers,
            identity=identity,
            recipes=recipes,
            calls=mcp.calls,
            connectors=connectors,
            request_counts=request_counts,
        )
        housekeeper = Housekeeper(
            {
                "OAuth": partial(sweep, identity.oauth),
                "rate-limit windows": RateLimiter().remove_old_windows,
                "connect links": connectors.connect.remove_expired_links,
                "run history": recipes.runs.remove_expired,
                "remote MCP sessions": connectors.runner.end_idle_sessions,
            }
        )
        return cls(
            settings=settings,
            database=database,
            identity=identity,
            connectors=connectors,
            recipes=recipes,
            mcp=mcp,
            endpoint=endpoint,
            request_counts=request_counts,
            housekeeper=housekeeper,
            writer=writer,
        )

    async def start(self) -> None:
        await self.database.connect()
        await self.writer.start()
        await self.housekeeper.start()
        await self.request_counts.start()

    async def stop(self) -> None:
        await self.request_counts.stop()  # writes the counts still pending, while the database is open
        await self.housekeeper.stop()
        await self.connectors.aclose()
        await self.writer.stop()  # what is pending is written before the database closes
        await self.database.close()


class _ServerResources:
    """The app's MCP servers as the resources tokens are issued for, once ``Services.build`` has made
    them (after the identity services, which take this directory)."""

    directory: ResourceDirectory | None = None

    async def find(self, url: str) -> ProtectedResource | None:
        return await self._directory().find(url)

    async def access_problem(self, resource: ProtectedResource, user_id: UUID) -> str | None:
        return await self._directory().access_problem(resource, user_id)

    def _directory(self) -> ResourceDirectory:
        if self.directory is None:
            raise RuntimeError("the MCP servers are asked for before Services.build made them")
        return self.directory


def install(app: Litestar, services: Services) -> None:
    """Make ``app`` serve ``services`` from its next request on."""
    app.state.services = services


def services_of(state: State) -> Services:
    services: Services = state.services
    return services
