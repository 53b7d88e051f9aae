"""An OpenAPI document's security schemes as a connector's auth type.

apiKey in a header or the query -> ``api_key``; http bearer -> ``bearer``; http basic -> ``basic``; oauth2
authorizationCode -> ``oauth2_authorization_code`` (with the scopes and their descriptions; ``refreshUrl``
is not needed, the token URL refreshes); clientCredentials -> ``oauth2_client_credentials``. Cookies, other
http schemes, OpenID Connect discovery and the implicit and password flows have no equivalent.

With several schemes: the document's top-level ``security`` requirement wins, then an OAuth 2.0
authorization code flow, then the first scheme an operation asks for, then the first scheme listed.
"""

from __future__ import annotations

import re
from typing import Any

from switchboard.connectors.definitions import is_acceptable_url
from switchboard.connectors.definitions.model import PLACEHOLDER
from switchboard.connectors.openapi.document import METHODS, Document, clip, problem


def auth_of(document: Document, base_url: str) -> dict[str, Any]:
    """The connector's ``auth``, in definition form; ``{"type": "none"}`` when no scheme maps."""
    components = document.data.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    if not isinstance(schemes, dict) or not schemes:
        return {"type": "none"}
    for name, scopes in _requirements(document.data):
        if name not in schemes:
            raise problem(f"the security requirement names no scheme {name!r}", "security")
        mapped = _mapped_scheme(document, name, schemes[name], base_url, scopes)
        if mapped is not None:
            return mapped
    for name, scheme in schemes.items():
        resolved, _ = document.resolved(scheme, f"components.securitySchemes.{name}")
        flows = resolved.get("flows") if isinstance(resolved, dict) else None
        if isinstance(flows, dict) and resolved.get("type") == "oauth2" and "authorizationCode" in flows:
            return _mapped_scheme(document, name, scheme, base_url, []) or {"type": "none"}
    for name, scopes in _operation_requirements(document.data):
        if name in schemes:
            mapped = _mapped_scheme(document, name, schemes[name], base_url, scopes)
            if mapped is not None:
                return mapped
    for name, scheme in schemes.items():
        mapped = _mapped_scheme(document, name, scheme, base_url, [])
        if mapped is not None:
            return mapped
    return {"type": "none"}


def _requirements(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    listed = data.get("security")
    for requirement in listed if isinstance(listed, list) else ():
        if isinstance(requirement, dict):
            found += [
                (name, scopes if isinstance(scopes, list) else []) for name, scopes in requirement.items()
            ]
    return found


def _operation_requirements(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    paths = data.get("paths")
    for item in paths.values() if isinstance(paths, dict) else ():
        for method in METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict):
                found += _requirements(operation)
    return found


def _mapped_scheme(
    document: Document, name: str, scheme: Any, base_url: str, scopes: list[str]
) -> dict[str, Any] | None:
    """The auth for one security scheme, or None when Switchboard has no equivalent (cookies, digest,
    OpenID Connect discovery, the implicit and password flows)."""
    scheme, where = document.resolved(scheme, f"components.securitySchemes.{name}")
    if not isinstance(scheme, dict):
        raise problem("a security scheme is a mapping", where)
    kind = scheme.get("type")
    if kind == "apiKey":
        if scheme.get("in") not in ("header", "query"):
            return None
        if not isinstance(scheme.get("name"), str) or not scheme["name"]:
            raise problem("an apiKey scheme needs the `name` of its header or parameter", where)
        return {"type": "api_key", "location": scheme["in"], "name": scheme["name"]}
    if kind == "http":
        http_scheme = str(scheme.get("scheme", "")).lower()
        return {"bearer": {"type": "bearer"}, "basic": {"type": "basic"}}.get(http_scheme)
    if kind != "oauth2" or not isinstance(scheme.get("flows"), dict):
        return None
    flows = scheme["flows"]
    for flow_name, auth_type in (
        ("authorizationCode", "oauth2_authorization_code"),
        ("clientCredentials", "oauth2_client_credentials"),
    ):
        flow = flows.get(flow_name)
        if isinstance(flow, dict):
            return {
                "type": auth_type,
                "provider": _provider(flow, f"{where}.flows.{flow_name}", base_url, scopes),
            }
    return None


def _provider(flow: dict[str, Any], where: str, base_url: str, wanted: list[str]) -> dict[str, Any]:
    provider: dict[str, Any] = {"token_url": _flow_url(flow, "tokenUrl", where, base_url)}
    if "authorizationUrl" in flow:
        provider["authorize_url"] = _flow_url(flow, "authorizationUrl", where, base_url)
    scopes = flow.get("scopes") or {}
    if not isinstance(scopes, dict):
        raise problem("`scopes` maps each scope to its description", f"{where}.scopes")
    listed = []
    for scope, description in scopes.items():
        if not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]{1,200}", str(scope)):
            raise problem(f"{str(scope)[:40]!r} is not a valid scope name", f"{where}.scopes")
        listed.append({"name": str(scope), "description": clip(str(description or ""), 2000)})
    provider["scopes"] = listed
    provider["default_scopes"] = [scope for scope in wanted if scope in scopes]
    return provider


def _flow_url(flow: dict[str, Any], name: str, where: str, base_url: str) -> str:
    url = flow.get(name)
    if not isinstance(url, str) or not url:
        raise problem(f"the flow needs its {name}", f"{where}.{name}")
    if "://" not in url:  # relative to the server
        if url.startswith("/"):
            url = ("{host}" if base_url.startswith("{") else _origin(base_url)) + url
        else:
            url = base_url + "/" + url
    if not url.startswith("{") and not is_acceptable_url(PLACEHOLDER.sub("x", url)):
        raise problem(f"{url} is not an https URL", f"{where}.{name}")
    return url


def _origin(url: str) -> str:
    match = re.match(r"^[a-z]+://[^/]+", url)
    return match.group(0) if match else url
