"""Settings: read once from the environment (and an optional TOML file), then passed down.

Nothing reads the environment at import time; ``load_settings`` is called by the CLI and the
tests build their own ``Settings``.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

ENV_PREFIX = "SWITCHBOARD_"
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(Exception):
    """A setting is missing or has a bad value; the message is one line naming the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the running product is configured with."""

    env: Literal["development", "production"] = "development"
    base_url: str = "http://127.0.0.1:8000"
    database_url: str = ""
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "var"
    session_lifetime_hours: int = 12
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 30
    login_lockout_minutes: int = 15
    database_pool_size: int = 10
    access_token_lifetime_minutes: int = 60
    refresh_token_lifetime_days: int = 30
    refresh_reuse_grace_seconds: int = 10
    authorization_code_lifetime_seconds: int = 600
    unused_client_lifetime_hours: int = 24
    token_requests_per_minute_per_client: int = 120
    token_requests_per_minute_per_ip: int = 600
    registrations_per_hour_per_ip: int = 60
    previous_secret_keys: str = ""
    connectors_dir: str = ""
    provider_timeout_seconds: int = 10
    # Recipe runs: each step's time limit, the whole run's, and how long run history is kept.
    recipe_step_timeout_seconds: int = 30
    recipe_deadline_seconds: int = 120
    run_retention_days: int = 30
    demo_tasks: Literal["auto", "on", "off"] = "auto"

    def __post_init__(self) -> None:
        _check(self)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def previous_keys(self) -> tuple[str, ...]:
        """Earlier secret keys, still accepted for decrypting stored values until re-encrypted."""
        return tuple(key.strip() for key in self.previous_secret_keys.split(",") if key.strip())

    @property
    def mounts_demo_tasks(self) -> bool:
        """The bundled Demo Tasks app is served under /demo-tasks in development unless turned off."""
        return self.demo_tasks == "on" or (self.demo_tasks == "auto" and not self.is_production)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


# What each variable expects, for the one-line error a bad value produces.
_EXPECTATIONS: dict[str, str] = {
    "env": '"development" or "production"',
    "base_url": "an absolute http(s) URL without a path, such as https://switchboard.example.com",
    "database_url": "sqlite:///path/to/file.db or postgresql://user:password@host:5432/name",
    "secret_key": f"a random string of at least {MIN_SECRET_KEY_LENGTH} characters",
    "host": "a host name or IP address to listen on",
    "port": "an integer from 1 to 65535",
    "data_dir": "a writable directory path",
    "session_lifetime_hours": "an integer from 1 to 720",
    "login_max_failures_per_account": "an integer from 1 to 1000",
    "login_max_failures_per_ip": "an integer from 1 to 100000",
    "login_lockout_minutes": "an integer from 1 to 1440",
    "database_pool_size": "an integer from 1 to 200",
    "access_token_lifetime_minutes": "an integer from 1 to 1440",
    "refresh_token_lifetime_days": "an integer from 1 to 365",
    "refresh_reuse_grace_seconds": "an integer from 0 to 300",
    "authorization_code_lifetime_seconds": "an integer from 10 to 600",
    "unused_client_lifetime_hours": "an integer from 1 to 8760",
    "token_requests_per_minute_per_client": "an integer from 1 to 100000",
    "token_requests_per_minute_per_ip": "an integer from 1 to 100000",
    "registrations_per_hour_per_ip": "an integer from 1 to 100000",
    "previous_secret_keys": f"comma-separated earlier secret keys, each of at least {MIN_SECRET_KEY_LENGTH} "
    "characters",
    "connectors_dir": "a directory of connector definitions (*.yaml, *.yml, *.json)",
    "provider_timeout_seconds": "an integer from 1 to 120",
    "recipe_step_timeout_seconds": "an integer from 1 to 600",
    "recipe_deadline_seconds": "an integer from 1 to 3600",
    "run_retention_days": "an integer from 1 to 3650",
    "demo_tasks": '"auto", "on" or "off"',
}

_RANGES: dict[str, tuple[int, int]] = {
    "port": (1, 65535),
    "session_lifetime_hours": (1, 720),
    "login_max_failures_per_account": (1, 1000),
    "login_max_failures_per_ip": (1, 100000),
    "login_lockout_minutes": (1, 1440),
    "database_pool_size": (1, 200),
    "access_token_lifetime_minutes": (1, 1440),
    "refresh_token_lifetime_days": (1, 365),
    "refresh_reuse_grace_seconds": (0, 300),
    "authorization_code_lifetime_seconds": (10, 600),
    "unused_client_lifetime_hours": (1, 8760),
    "token_requests_per_minute_per_client": (1, 100000),
    "token_requests_per_minute_per_ip": (1, 100000),
    "registrations_per_hour_per_ip": (1, 100000),
    "provider_timeout_seconds": (1, 120),
    "recipe_step_timeout_seconds": (1, 600),
    "recipe_deadline_seconds": (1, 3600),
    "run_retention_days": (1, 3650),
}


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs (works on malformed URLs too)."""
    scheme, separator, rest = url.partition("://")
    netloc_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, host = rest[:netloc_end].rpartition("@")
    if not separator or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}{rest[netloc_end:]}"


def _bad(field: str, value: object) -> SettingsError:
    if field == "database_url" and isinstance(value, str):
        value = redact_url(value)
    return SettingsError(f"{env_name(field)}={value!r} is invalid: expected {_EXPECTATIONS[field]}")


def _valid_base_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    # Pages redirect to root-relative paths, so the product cannot live under a path prefix.
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not (parts.path or parts.query or parts.fragment)
    )


def _valid_database_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if parts.scheme == "sqlite":
        # sqlite:///relative.db or sqlite:////absolute.db; the path names a file, not a directory.
        return not parts.netloc and bool(parts.path.lstrip("/")) and not parts.path.endswith("/")
    return parts.scheme in {"postgresql", "postgres"}


def _check(settings: Settings) -> None:
    for field, (low, high) in _RANGES.items():
        value = getattr(settings, field)
        if not low <= value <= high:
            raise _bad(field, value)
    if not _valid_base_url(settings.base_url):
        raise _bad("base_url", settings.base_url)
    if settings.database_url and not _valid_database_url(settings.database_url):
        raise _bad("database_url", settings.database_url)
    if not settings.host:
        raise _bad("host", settings.host)
    if not settings.data_dir.strip():
        raise _bad("data_dir", settings.data_dir)
    if settings.secret_key and len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        raise _bad("secret_key", "***")
    if any(len(key) < MIN_SECRET_KEY_LENGTH for key in settings.previous_keys):
        raise _bad("previous_secret_keys", "***")


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"{ENV_PREFIX}CONFIG={str(path)!r} cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{ENV_PREFIX}CONFIG={str(path)!r} is not valid TOML: {exc}") from exc
    section = data.get("switchboard", data)
    if not isinstance(section, dict):
        raise SettingsError(f"{ENV_PREFIX}CONFIG={str(path)!r}: [switchboard] must be a table")
    return section


def load_settings(environ: Mapping[str, str] | None = None, config_file: str | None = None) -> Settings:
    """Build settings from a TOML file (optional) overlaid with ``SWITCHBOARD_*`` variables.

    In development a missing secret key is generated once and kept in ``<data_dir>/secret_key``;
    in production a missing or short key refuses to start.
    """
    environ = os.environ if environ is None else environ
    fields = Settings.__struct_fields__
    raw: dict[str, Any] = {}
    config_file = config_file or environ.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        for key, value in _from_toml(Path(config_file)).items():
            if key not in fields:
                raise SettingsError(f"{ENV_PREFIX}CONFIG: unknown setting {key!r} in {config_file}")
            raw[key] = value
    for field in fields:
        value = environ.get(env_name(field))
        if value is not None:
            raw[field] = value
    for field, value in raw.items():
        if field in _RANGES and isinstance(value, str):
            try:
                raw[field] = int(value.strip())
            except ValueError:
                raise _bad(field, value) from None
    if isinstance(raw.get("base_url"), str):
        raw["base_url"] = raw["base_url"].strip().rstrip("/")
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        raise _describe(exc, raw) from None

    updates: dict[str, str] = {}
    if "base_url" not in raw:
        updates["base_url"] = local_base_url(settings.host, settings.port)
    if not settings.database_url:
        updates["database_url"] = f"sqlite:///{Path(settings.data_dir) / 'switchboard.db'}"
    if not settings.secret_key:
        if settings.is_production:
            raise SettingsError(
                f"{env_name('secret_key')} is required when {env_name('env')}=production: "
                f"expected {_EXPECTATIONS['secret_key']}"
            )
        updates["secret_key"] = _development_secret(Path(settings.data_dir))
    return msgspec.structs.replace(settings, **updates) if updates else settings


def _describe(exc: msgspec.ValidationError | SettingsError, raw: Mapping[str, Any]) -> SettingsError:
    if isinstance(exc, SettingsError):
        return exc
    message = str(exc)
    for field in Settings.__struct_fields__:
        if f"`$.{field}`" in message:
            return _bad(field, raw.get(field))
    return SettingsError(f"invalid settings: {message}")


def local_base_url(host: str, port: int) -> str:
    """The public URL when none is configured: where ``serve`` listens (loopback for a wildcard)."""
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _development_secret(data_dir: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive restarts."""
    path = data_dir / "secret_key"
    try:
        if path.exists():
            key = path.read_text().strip()
            if len(key) >= MIN_SECRET_KEY_LENGTH:
                return key
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created owner-only; an older, too short file is replaced and its mode tightened too.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(key + "\n")
    except OSError as exc:
        raise SettingsError(
            f"{env_name('data_dir')}={str(data_dir)!r} is invalid: cannot keep the development secret key "
            f"in {path}: {exc.strerror}"
        ) from exc
    return key
