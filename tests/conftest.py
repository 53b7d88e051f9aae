"""Shared fixtures: a fresh database for each test, and the app serving fresh services on it.

Database tests run on SQLite; those marked ``both_engines`` (storage, SQL, transactions and concurrency:
what the two engines do differently) run on a real PostgreSQL server too, and the end-to-end and
conformance tests run on PostgreSQL alone. Each test gets its own database, cloned from a template that
was migrated once per run (a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL). When
PostgreSQL cannot be started its tests are skipped with a loud notice; with SWITCHBOARD_REQUIRE_ALL=1
(as in CI) that is a failure.

The Litestar app is built once per worker and per shell (the settings it is made of: secret key, base
URL, cookies, Demo Tasks); each test installs its own services in it (``platform/services.py``), so no
state passes from one test to the next.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from litestar import Litestar

from switchboard.identity import passwords
from switchboard.identity.deps import IdentityServices
from switchboard.platform.app import create_app, shell_settings
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import Services, install
from tests.support.postgres import PostgresCluster, PostgresUnavailable
from tests.support.runner import run_async, sqlite_url
from tests.support.web import Browserless

pytest_plugins = ["tests.support.connector_fixtures"]

REQUIRE_ALL = os.environ.get("SWITCHBOARD_REQUIRE_ALL") == "1"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
_missing_components: list[str] = []
_PRODUCTION_HASHING = (passwords._hasher, passwords._DUMMY_HASH)


ENGINES = ("sqlite", "postgres")
# Fixtures that hand a test a database URL; a test marked ``both_engines`` gets each of them on both engines.
DATABASE_FIXTURES = ("db_url", "empty_db_url")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "both_engines: runs on SQLite and on PostgreSQL (storage, SQL, transactions, concurrency); "
        "other database tests run on SQLite",
    )
    config.addinivalue_line(
        "markers",
        "one_engine: runs on SQLite alone in a module marked both_engines (the engine is not its subject)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    definition = metafunc.definition
    if definition.get_closest_marker("both_engines") is None or definition.get_closest_marker("one_engine"):
        return
    for name in DATABASE_FIXTURES:
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, ENGINES, indirect=True)


def require_component(name: str, reason: str) -> None:
    """Skip (or, with SWITCHBOARD_REQUIRE_ALL=1, fail) because a real component is missing."""
    message = f"{name} unavailable: {reason}"
    if message not in _missing_components:
        _missing_components.append(message)
    if REQUIRE_ALL:
        pytest.fail(f"{message} (SWITCHBOARD_REQUIRE_ALL=1 makes this a failure)", pytrace=False)
    pytest.skip(message)


# Packages whose fixtures start servers for the whole package (a live Switchboard, oidc-provider): with
# ``--dist loadfile`` each of them runs on one worker, so those servers start once rather than each time a
# worker comes back to the package.
WHOLE_PACKAGES = ("tests/e2e/", "tests/conformance/", "tests/support_tests/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long units first (the packages that start servers, and tests marked ``slow``), so that the
    workers do not wait at the end for one of them to finish."""

    def long(item: pytest.Item) -> bool:
        return item.nodeid.startswith(WHOLE_PACKAGES) or item.get_closest_marker("slow") is not None

    items.sort(key=lambda item: not long(item))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadfile":
        return None
    # Hand out the units in collection order, long ones first (see pytest_collection_modifyitems),
    # rather than by their number of tests.
    config.option.loadscopereorder = False
    from xdist.scheduler import LoadFileScheduling

    class PackageScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return next((package for package in WHOLE_PACKAGES if path.startswith(package)), path)

    return PackageScheduling(config, log)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _missing_components:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        for message in _missing_components:
            terminalreporter.write_line(f"SKIPPED TESTS: {message}", red=True, bold=True)
        terminalreporter.write_line("Run `make test` to install what is missing.", red=True, bold=True)
        terminalreporter.write_line(bar, red=True, bold=True)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with argon2-cffi's profile for tests: the same code paths, without seconds of hashing.

    Servers started as separate processes hash as in production. Tests about the stored hash itself
    ask for ``production_password_hashing``.
    """
    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", hasher.hash("switchboard-timing-equaliser"))


@pytest.fixture
def production_password_hashing(monkeypatch: pytest.MonkeyPatch, cheap_password_hashing: None) -> None:
    monkeypatch.setattr(passwords, "_hasher", _PRODUCTION_HASHING[0])
    monkeypatch.setattr(passwords, "_DUMMY_HASH", _PRODUCTION_HASHING[1])


async def _migrate(url: str) -> None:
    from switchboard.platform.core.migrations import migrate

    database = Database(url)
    await database.connect()
    try:
        await migrate(database)
    finally:
        await database.close()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster | None]:
    try:
        cluster = PostgresCluster()
        cluster.start()
    except PostgresUnavailable as exc:
        _missing_components.append(f"PostgreSQL unavailable: {exc}")
        yield None
        return
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_async(_migrate(sqlite_url(path)))
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster: PostgresCluster | None) -> str | None:
    if postgres_cluster is None:
        return None
    postgres_cluster.execute("CREATE DATABASE switchboard_template")
    run_async(_migrate(postgres_cluster.url("switchboard_template")))
    return "switchboard_template"


@pytest.fixture
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
) -> Iterator[str]:
    """A fresh, migrated database: SQLite, or each engine in turn for a test marked ``both_engines``."""
    if getattr(request, "param", "sqlite") == "sqlite":
        path = tmp_path / "switchboard.db"
        shutil.copyfile(sqlite_template, path)
        yield sqlite_url(path)
        return
    cluster: PostgresCluster | None = request.getfixturevalue("postgres_cluster")
    template: str | None = request.getfixturevalue("postgres_template")
    if cluster is None or template is None:
        require_component("PostgreSQL", "the server could not be started (see the first notice)")
        raise AssertionError("unreachable")
    name = f"test_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield cluster.url(name)
    cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        secret_key=TEST_SECRET,
        database_url=db_url,
        data_dir=str(tmp_path),
        base_url="http://testserver.local",
    )


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, pool_size=4)
    await database.connect()
    yield database
    await database.close()


@pytest.fixture
def services(app_services: Services) -> IdentityServices:
    """The identity services the app serves, on the test's database (one revocation list and key cache,
    as in a running process)."""
    return app_services.identity


@pytest.fixture
def build_options() -> dict[str, Any]:
    """What a test package or module changes in how its services are built: keyword arguments of
    ``Services.build`` (``resources``, ``metadata_fetcher``, ``provider_transport``)."""
    return {}


@pytest.fixture
async def app_services(
    settings: Settings, database: Database, build_options: dict[str, Any]
) -> AsyncIterator[Services]:
    """Every area's services on the test's database, as a running app holds them (their HTTP clients
    closed afterwards; the ``database`` fixture closes the database)."""
    services = Services.build(settings, database=database, **build_options)
    yield services
    await services.connectors.aclose()


@pytest.fixture(scope="session")
def _shells() -> dict[tuple[object, ...], Litestar]:
    return {}


@pytest.fixture
def app(settings: Settings, app_services: Services, _shells: dict[tuple[object, ...], Litestar]) -> Litestar:
    """The app serving the test's own services: built once per worker for each shell, since what the app
    is made of depends on these settings alone (see ``create_app``)."""
    shell = shell_settings(settings)
    app = _shells.get(shell)
    if app is None:
        app = _shells[shell] = create_app(settings, services=app_services)
    else:
        install(app, app_services)
    return app


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in the test's own event loop (so it shares the database pool).

    The ``database`` fixture has connected the database already, which is all the app's start-up does.
    """
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
def web(client: httpx.AsyncClient) -> Browserless:
    """Sign-in and form helpers over the test client, as a browser would send them."""
    return Browserless(client)
