"""The tasks API: the token owner's own tasks, behind ``tasks:read`` and ``tasks:write`` (RFC 6750)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post

from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.demo_tasks import bearer, tasks
from switchboard.platform.demo_tasks.errors import BearerError


class TasksList(msgspec.Struct, frozen=True):
    tasks: list[tasks.TaskOut]


class TasksApi(Controller):
    path = "/api/tasks"
    opt = {"exclude_from_csrf": True}
    include_in_schema = False

    @get("/")
    async def list_tasks(self, request: Request[Any, Any, Any]) -> Response[TasksList]:
        token = await bearer.verify(request.headers.get("authorization"))
        token.require("tasks:read")
        return Response(
            TasksList(await tasks.list_tasks(token.account_id)), headers={"Cache-Control": "no-store"}
        )

    @post("/", status_code=201)
    async def create_task(self, request: Request[Any, Any, Any]) -> Response[tasks.TaskOut]:
        token = await bearer.verify(request.headers.get("authorization"))
        token.require("tasks:write")
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            raise InvalidInput('Send a JSON object such as {"title": "Call Bob"}.') from None
        if not isinstance(body, dict):
            raise InvalidInput('Send a JSON object such as {"title": "Call Bob"}.')
        if "title" not in body:
            raise InvalidInput("The title is missing.", field="title")
        task = await tasks.create_task(token.account_id, body["title"])
        return Response(task, status_code=201, headers={"Cache-Control": "no-store"})


def bearer_error_response(request: Request[Any, Any, Any], exc: BearerError) -> Response[Any]:
    return Response(
        exc.body(),
        status_code=exc.status,
        headers={"WWW-Authenticate": exc.challenge, "Cache-Control": "no-store"},
    )


def invalid_input_response(request: Request[Any, Any, Any], exc: InvalidInput) -> Response[Any]:
    body: dict[str, str] = {"error": exc.code, "message": exc.message}
    if exc.field:
        body["field"] = exc.field
    return Response(body, status_code=exc.status)
