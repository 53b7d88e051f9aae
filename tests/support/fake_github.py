"""Local HTTP servers for the tests of calling third-party apps, run on 127.0.0.1 in a background thread.

``LocalServer`` answers every request with a handler the test gives (and keeps each request), so tests
can play any app, including a failing one. ``FakeGitHub`` plays the part of GitHub's REST API that the
built-in GitHub connector uses, as its documentation describes it: it checks the bearer token, the
``Accept`` and ``X-GitHub-Api-Version`` headers and a User-Agent, and answers errors the way GitHub does
(``{"message": ..., "documentation_url": ...}``; 422 with the fields at fault). It also serves the same
API under ``/api/v3``, as GitHub Enterprise Server does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

DOCS = "https://docs.github.com/rest"
API_VERSION = "2022-11-28"


class Recorded(msgspec.Struct, frozen=True):
    """One request as the server saw it; ``path`` is the raw request target's path, still encoded."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Reply(msgspec.Struct, frozen=True):
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    # Leave out Content-Length (and close the connection to end the body), as a streaming server might.
    chunked: bool = False


def json_reply(status: int, data: Any, *headers: tuple[str, str]) -> Reply:
    return Reply(status, json.dumps(data).encode(), (("Content-Type", "application/json"), *headers))


Handler = Callable[[Recorded], Reply]


class LocalServer:
    """HTTP/1.1 on 127.0.0.1 in a background thread; each request goes to ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Recorded] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    path=target.path,
                    query=parse_qs(target.query, keep_blank_values=True),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
                server.requests.append(recorded)
                reply = server.handler(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                if reply.chunked:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running(handler: Handler) -> Iterator[LocalServer]:
    server = LocalServer(handler)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Account(msgspec.Struct, frozen=True):
    login: str
    scopes: tuple[str, ...]


class FakeGitHub:
    """The repositories and issues endpoints of GitHub's REST API, for the tokens in ``tokens``."""

    def __init__(self) -> None:
        self.tokens: dict[str, Account] = {
            "gho_octocat": Account("octocat", ("repo", "read:user")),
            "gho_public_only": Account("octocat", ("public_repo",)),
            "gho_no_scopes": Account("octocat", ()),
        }
        self.repositories: list[dict[str, Any]] = [
            _repository("octocat", "hello-world", private=False, affiliation="owner"),
            _repository("octocat", "secret-plans", private=True, affiliation="owner"),
            _repository("acme", "api", private=True, affiliation="organization_member"),
            _repository("friend", "shared-notes", private=False, affiliation="collaborator"),
        ]
        self.issues: dict[str, list[dict[str, Any]]] = {
            "octocat/hello-world": [
                _issue("octocat/hello-world", 1, "Found a bug", "open", ["bug"]),
                _issue("octocat/hello-world", 2, "Old idea", "closed", []),
                _issue("octocat/hello-world", 3, "Add a logo", "open", ["design"], pull_request=True),
            ],
            "octocat/secret-plans": [],
        }
        self.assignable = {"octocat"}
        self.faults: dict[str, Reply] = {}
        self.server = LocalServer(self.handle)

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def url(self, path: str = "") -> str:
        return self.server.url(path)

    def handle(self, request: Recorded) -> Reply:
        path = request.path.removeprefix("/api/v3")
        if path in self.faults:
            return self.faults[path]
        if "user-agent" not in request.headers:
            return _error(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a "
                "User-Agent header",
            )
        if request.headers.get("x-github-api-version", API_VERSION) != API_VERSION:
            return _error(400, f"Invalid API version: {request.headers['x-github-api-version']}")
        if request.headers.get("accept") != "application/vnd.github+json":
            return _error(415, "fake GitHub: expected Accept: application/vnd.github+json")
        account = self._account(request)
        if account is None:
            return _error(
                401, "Bad credentials" if "authorization" in request.headers else "Requires authentication"
            )
        parts = path.strip("/").split("/")
        if request.method == "GET" and parts == ["user"]:
            return json_reply(200, {"login": account.login, "id": 583231, "type": "User"})
        if request.method == "GET" and parts == ["user", "repos"]:
            return self._list_repositories(request)
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "issues":
            full_name = f"{parts[1]}/{parts[2]}".lower()
            repository = next((r for r in self.repositories if r["full_name"].lower() == full_name), None)
            if repository is None or (repository["private"] and "repo" not in account.scopes):
                return _error(404, "Not Found")
            if request.method == "GET":
                return self._list_issues(request, repository)
            if request.method == "POST":
                return self._create_issue(request, repository, account)
        return _error(404, "Not Found")

    def _account(self, request: Recorded) -> Account | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        return self.tokens.get(token)

    def _list_repositories(self, request: Recorded) -> Reply:
        visibility = _one(request, "visibility", "all")
        affiliation = _one(request, "affiliation", "owner,collaborator,organization_member").split(",")
        if visibility not in ("all", "public", "private"):
            return _validation_failed("Repository", "visibility", "invalid")
        found = [
            repository
            for repository in self.repositories
            if repository["_affiliation"] in affiliation
            and (visibility == "all" or repository["private"] == (visibility == "private"))
        ]
        found.sort(key=lambda repository: repository["full_name"].lower())
        return json_reply(200, [_public(repository) for repository in _page(request, found)])

    def _list_issues(self, request: Recorded, repository: dict[str, Any]) -> Reply:
        state = _one(request, "state", "open")
        labels = [label for label in _one(request, "labels", "").split(",") if label]
        found = [
            issue
            for issue in self.issues.get(repository["full_name"], [])
            if (state == "all" or issue["state"] == state)
            and all(label in [item["name"] for item in issue["labels"]] for label in labels)
        ]
        return json_reply(200, list(_page(request, sorted(found, key=lambda issue: -issue["number"]))))

    def _create_issue(self, request: Recorded, repository: dict[str, Any], account: Account) -> Reply:
        allowed = {"repo"} if repository["private"] else {"repo", "public_repo"}
        if not allowed & set(account.scopes):
            return _error(403, "Resource not accessible by integration")
        try:
            data = request.json()
        except ValueError:
            return _error(400, "Problems parsing JSON")
        title = data.get("title") if isinstance(data, dict) else None
        if not isinstance(title, str) or not title:
            return _validation_failed("Issue", "title", "missing_field")
        for login in data.get("assignees") or []:
            if login not in self.assignable:
                return _validation_failed("Issue", "assignees", "invalid")
        issues = self.issues.setdefault(repository["full_name"], [])
        issue = _issue(repository["full_name"], len(issues) + 1, title, "open", data.get("labels") or [])
        issue["body"] = data.get("body")
        issue["assignees"] = [{"login": login} for login in data.get("assignees") or []]
        issue["user"] = {"login": account.login, "id": 583231}
        issues.append(issue)
        return json_reply(201, issue, ("Location", issue["url"]))


def _repository(owner: str, name: str, *, private: bool, affiliation: str) -> dict[str, Any]:
    return {
        "id": abs(hash((owner, name))) % 10**8,
        "name": name,
        "full_name": f"{owner}/{name}",
        "owner": {"login": owner},
        "private": private,
        "visibility": "private" if private else "public",
        "html_url": f"https://github.com/{owner}/{name}",
        "description": f"{name.replace('-', ' ').capitalize()} of {owner}",
        "default_branch": "main",
        "updated_at": "2026-11-01T10:00:00Z",
        "stargazers_count": 7,
        "_affiliation": affiliation,
    }


def _issue(
    full_name: str, number: int, title: str, state: str, labels: list[str], *, pull_request: bool = False
) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "id": 1000 + number,
        "number": number,
        "title": title,
        "state": state,
        "url": f"https://api.github.com/repos/{full_name}/issues/{number}",
        "html_url": f"https://github.com/{full_name}/issues/{number}",
        "user": {"login": "octocat", "id": 583231},
        "labels": [{"name": label, "color": "f29513"} for label in labels],
        "comments": 0,
        "created_at": "2026-11-01T10:00:00Z",
        "body": None,
    }
    if pull_request:
        issue["pull_request"] = {"html_url": f"https://github.com/{full_name}/pull/{number}"}
    return issue


def _public(repository: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in repository.items() if not key.startswith("_")}


def _one(request: Recorded, name: str, default: str) -> str:
    return request.query.get(name, [default])[0]


def _page(request: Recorded, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    per_page = min(int(_one(request, "per_page", "30")), 100)
    page = int(_one(request, "page", "1"))
    return items[(page - 1) * per_page : page * per_page]


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"message": message, "documentation_url": DOCS, "status": str(status)})


def _validation_failed(resource: str, field: str, code: str) -> Reply:
    return json_reply(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": code, "field": field}],
            "documentation_url": DOCS,
            "status": "422",
        },
    )
