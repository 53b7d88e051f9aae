"""The API's error answers in its OpenAPI document.

Every error the API answers has one shape, ``{"error": code, "message": text, "field": name}``
(``platform.core.http_errors``). The document describes that shape once, as the ``Error`` component, and
lists under every operation each error status the operation can answer, in place of the validation
answer Litestar would describe in its own shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

if TYPE_CHECKING:
    from litestar.openapi.spec import OpenAPI, Operation

ERROR_SCHEMA_NAME = "Error"

ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="An error: a stable machine-readable code, a sentence for people and, when one input is "
    "at fault, its name. Some errors carry more (such as every problem of a recipe).",
    required=["error", "message"],
    properties={
        "error": Schema(type=OpenAPIType.STRING, description="The error code, such as invalid_input."),
        "message": Schema(type=OpenAPIType.STRING, description="What went wrong, in a sentence."),
        "field": Schema(type=OpenAPIType.STRING, description="The input at fault, when there is one."),
    },
)

_DESCRIPTIONS = {
    400: "The request body is not JSON.",
    401: "No console session or admin API token, or one that is wrong, expired or revoked.",
    403: "The signed-in user's role does not allow this, or the CSRF header of a console session is missing.",
    404: "Nothing with this identifier.",
    409: "The change conflicts with what exists (a name or e-mail taken, a resource still in use).",
    413: "The request body is larger than 1 MiB.",
    422: "An input is wrong: the message says why and field names it.",
}

_CHANGES = frozenset({"post", "put", "patch", "delete"})
_METHODS = ("get", "put", "post", "patch", "delete")


def error_statuses(method: str, operation: Operation) -> list[int]:
    """The error statuses an operation can answer, from what it takes.

    Every operation needs a signed-in user (401) whose role allows it (403). One addressed by a path
    parameter can find nothing (404); one that takes inputs can find them wrong (422); one that takes a
    body can receive one that is not JSON (400) or too large (413); a change can conflict (409).
    """
    places = {getattr(parameter, "param_in", None) for parameter in operation.parameters or ()}
    statuses = {401, 403}
    if "path" in places:
        statuses.add(404)
    if places & {"path", "query"} or operation.request_body is not None:
        statuses.add(422)
    if operation.request_body is not None:
        statuses |= {400, 413}
    if method in _CHANGES:
        statuses.add(409)
    return sorted(statuses)


def document_errors(openapi: OpenAPI, prefix: str = "/api/") -> None:
    """Describe the error shape and, for every operation under ``prefix``, each error status it answers."""
    components = openapi.components
    if isinstance(components, Components):
        components.schemas = {**(components.schemas or {}), ERROR_SCHEMA_NAME: ERROR_SCHEMA}
    error = OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{ERROR_SCHEMA_NAME}"))
    for path, item in (openapi.paths or {}).items():
        if not path.startswith(prefix):
            continue
        for method in _METHODS:
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            # Litestar's own error answers (its validation shape) are replaced by the API's.
            responses = {
                status: response
                for status, response in (operation.responses or {}).items()
                if not status.startswith(("4", "5"))
            }
            for status in error_statuses(method, operation):
                responses[str(status)] = OpenAPIResponse(
                    description=_DESCRIPTIONS[status], content={"application/json": error}
                )
            operation.responses = responses
