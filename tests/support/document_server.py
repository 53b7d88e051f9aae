"""A small HTTP(S) server on 127.0.0.1 that plays a remote party serving documents, a resolver under the
test's control, and self-signed certificates: for the tests of fetching untrusted URLs."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from switchboard.platform.core.safe_fetch import Resolver


class Request(msgspec.Struct, frozen=True):
    path: str
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""


Handler = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


async def write(
    writer: asyncio.StreamWriter, status: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
) -> None:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Connection: close"]
    if not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()


def answer(status: int = 200, body: bytes = b"", *headers: tuple[str, str]) -> Handler:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await write(writer, status, body, headers)

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    return answer(status, b"", ("Location", location))


class DocumentServer:
    """HTTP/1.1 on 127.0.0.1, one request per connection, routes by path; counts and keeps every request."""

    def __init__(self, routes: dict[str, Handler], ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes = routes
        self.ssl_context = ssl_context
        self.hits: Counter[str] = Counter()
        self.requests: list[Request] = []
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path = head[0].split(" ")[:2]
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in head[1:])
            }
            length = int(headers.get("content-length", "0") or 0)
            body = await reader.readexactly(length) if length else b""
            request = Request(path, headers, method, body)
            self.hits[path] += 1
            self.requests.append(request)
            await self.routes.get(path, answer(404))(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


def resolving(table: dict[str, list[str]]) -> Resolver:
    """A resolver that knows only ``table``, as DNS under an attacker's control might answer."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


def certificate(host: str, folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext, list[str | None]]:
    """A self-signed certificate for ``host``: the server's context, a client context trusting it, and
    the list where the server writes down the TLS server name (SNI) each client asked for."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server_names: list[str | None] = []

    def remember(connection: ssl.SSLObject, server_name: str | None, context: ssl.SSLContext) -> None:
        server_names.append(server_name)

    server_context.sni_callback = remember
    return server_context, ssl.create_default_context(cadata=cert_pem.decode()), server_names
