"""Remote servers as stored: a row read back as a ``RemoteServer``, its secrets sealed and opened.

The static token and a client secret entered by hand (``StoredSecrets``) and the registered client
(``Registration``) are stored encrypted with the connectors' ``SecretBox``; a value that can no longer be
decrypted reads as absent.
"""

from __future__ import annotations

from typing import Any

import msgspec

from switchboard.connectors.remote.discovery import AuthMode, DiscoveryResult
from switchboard.connectors.remote.models import AuthSettings, RemoteServer, RemoteTool
from switchboard.connectors.remote.registration import Registration
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.errors import NotFound


class StoredSecrets(msgspec.Struct, frozen=True, kw_only=True):
    token: str = ""
    client_secret: str = ""


class RemoteServerStore:
    def __init__(self, box: SecretBox) -> None:
        self._box = box

    async def row(self, key: str) -> dict[str, Any]:
        row = await self.find(key)
        if row is None:
            raise NotFound(f"There is no remote MCP server {key!r}.", field="key")
        return row

    async def find(self, key: str) -> dict[str, Any] | None:
        row: dict[str, Any] | None = await RemoteServerRow.select().where(RemoteServerRow.key == key).first()
        return row

    def seal(self, value: msgspec.Struct) -> str:
        return self._box.encrypt(msgspec.json.encode(value).decode())

    def secrets(self, row: dict[str, Any]) -> StoredSecrets:
        try:
            return (
                msgspec.json.decode(self._box.decrypt(row["secrets"]), type=StoredSecrets)
                if row["secrets"]
                else StoredSecrets()
            )
        except DecryptionFailed:
            return StoredSecrets()

    def registration(self, row: dict[str, Any]) -> Registration | None:
        if not row["registration"]:
            return None
        try:
            return msgspec.json.decode(self._box.decrypt(row["registration"]), type=Registration)
        except DecryptionFailed:
            return None

    def server(self, row: dict[str, Any]) -> RemoteServer:
        """The row as the service gives it out: secrets only as whether they are set."""
        settings = settings_of(row)
        secrets = self.secrets(row)
        registration = self.registration(row)
        discovery = settings.get("discovery")
        return RemoteServer(
            key=row["key"],
            name=row["name"],
            endpoint=row["endpoint"],
            auth=AuthSettings(
                mode=AuthMode(row["auth_mode"]),
                header=settings.get("header", ""),
                client_id=registration.client_id if registration else "",
                scopes=tuple(settings.get("scopes", ())),
                auth_url=settings.get("auth_url", ""),
                token_url=settings.get("token_url", ""),
                register_url=settings.get("register_url", ""),
                revocation_url=settings.get("revocation_url", ""),
                resource=settings.get("resource", ""),
                issuer=settings.get("issuer", ""),
                token_endpoint_auth_method=settings.get("token_endpoint_auth_method", "none"),
                iss_parameter_supported=bool(settings.get("iss_parameter_supported")),
                token_set=bool(secrets.token),
                client_secret_set=bool(registration and registration.client_secret),
                registered=settings.get("registered", ""),
            ),
            allow_private=row["allow_private"],
            discovery_result=msgspec.convert(discovery, DiscoveryResult) if discovery else None,
            tools=tuple(msgspec.convert(tool, RemoteTool) for tool in settings.get("tools", [])),
            tools_refreshed_at=row["tools_refreshed_at"],
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def settings_of(row: dict[str, Any]) -> dict[str, Any]:
    """The row's settings as a dict, whether the database hands them back decoded or as JSON text."""
    settings = row["settings"]
    if isinstance(settings, str):
        settings = msgspec.json.decode(settings)
    return dict(settings or {})
