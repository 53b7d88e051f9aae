"""Settings: environment variables, the optional TOML file, and the one-line errors for bad values."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from switchboard.platform.core.settings import MIN_SECRET_KEY_LENGTH, SettingsError, load_settings

GOOD_KEY = "k" * MIN_SECRET_KEY_LENGTH
PORT_EXPECTED = "expected an integer from 1 to 65535"
BASE_URL_EXPECTED = "expected an absolute http(s) URL without a path, such as https://switchboard.example.com"
DATABASE_URL_EXPECTED = "expected sqlite:///path/to/file.db or postgresql://user:password@host:5432/name"
SECRET_EXPECTED = f"expected a random string of at least {MIN_SECRET_KEY_LENGTH} characters"


def refusal(environ: dict[str, str], config_file: Path | None = None) -> str:
    """The message of the SettingsError that loading these settings raises; always one line."""
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, str(config_file) if config_file else None)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """A minimal environment: only the data folder, so nothing is written outside the test's folder."""
    return {"SWITCHBOARD_DATA_DIR": str(tmp_path)}


def test_without_a_base_url_the_public_url_follows_the_host_and_port(environ: dict[str, str]) -> None:
    settings = load_settings(environ | {"SWITCHBOARD_PORT": "8125", "SWITCHBOARD_HOST": "0.0.0.0"})  # noqa: S104
    assert settings.base_url == "http://127.0.0.1:8125"


def test_a_configured_base_url_is_kept_whatever_the_port(environ: dict[str, str]) -> None:
    settings = load_settings(
        environ | {"SWITCHBOARD_PORT": "8125", "SWITCHBOARD_BASE_URL": "https://switchboard.example.com/"}
    )
    assert settings.base_url == "https://switchboard.example.com"


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "switchboard.toml"
    path.write_text(text)
    return path


def test_defaults_serve_a_local_development_copy_on_sqlite_in_the_data_folder(
    environ: dict[str, str], tmp_path: Path
) -> None:
    settings = load_settings(environ)
    assert settings.env == "development"
    assert not settings.is_production
    assert settings.base_url == "http://127.0.0.1:8000"
    assert not settings.secure_cookies
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.data_dir == str(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'switchboard.db'}"
    assert settings.session_lifetime_hours == 12
    assert settings.login_max_failures_per_account == 5
    assert settings.login_max_failures_per_ip == 30
    assert settings.login_lockout_minutes == 15
    assert settings.database_pool_size == 10
    assert len(settings.secret_key) >= MIN_SECRET_KEY_LENGTH


def test_the_environment_is_not_read_when_a_mapping_is_given(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_PORT", "abc")
    assert load_settings(environ).port == 8000


@pytest.mark.parametrize(
    ("variable", "raw", "field", "expected"),
    [
        ("SWITCHBOARD_ENV", "production", "env", "production"),
        (
            "SWITCHBOARD_BASE_URL",
            "https://switchboard.example.com",
            "base_url",
            "https://switchboard.example.com",
        ),
        ("SWITCHBOARD_BASE_URL", " https://sb.example.com:8443/ ", "base_url", "https://sb.example.com:8443"),
        (
            "SWITCHBOARD_DATABASE_URL",
            "postgresql://sb:pw@db:5432/sb",
            "database_url",
            "postgresql://sb:pw@db:5432/sb",
        ),
        ("SWITCHBOARD_DATABASE_URL", "postgres://db/sb", "database_url", "postgres://db/sb"),
        ("SWITCHBOARD_DATABASE_URL", "sqlite:///var/other.db", "database_url", "sqlite:///var/other.db"),
        ("SWITCHBOARD_SECRET_KEY", GOOD_KEY, "secret_key", GOOD_KEY),
        ("SWITCHBOARD_HOST", "10.1.2.3", "host", "10.1.2.3"),
        ("SWITCHBOARD_PORT", " 9000 ", "port", 9000),
        ("SWITCHBOARD_SESSION_LIFETIME_HOURS", "24", "session_lifetime_hours", 24),
        ("SWITCHBOARD_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3", "login_max_failures_per_account", 3),
        ("SWITCHBOARD_LOGIN_MAX_FAILURES_PER_IP", "100", "login_max_failures_per_ip", 100),
        ("SWITCHBOARD_LOGIN_LOCKOUT_MINUTES", "60", "login_lockout_minutes", 60),
        ("SWITCHBOARD_DATABASE_POOL_SIZE", "20", "database_pool_size", 20),
    ],
)
def test_each_environment_variable_sets_its_setting(
    environ: dict[str, str], variable: str, raw: str, field: str, expected: Any
) -> None:
    extra = {"SWITCHBOARD_SECRET_KEY": GOOD_KEY} if field == "env" else {}
    settings = load_settings({**environ, **extra, variable: raw})
    assert getattr(settings, field) == expected


def test_the_data_folder_variable_moves_the_default_database_and_the_secret(tmp_path: Path) -> None:
    settings = load_settings({"SWITCHBOARD_DATA_DIR": str(tmp_path / "state")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'state' / 'switchboard.db'}"
    assert (tmp_path / "state" / "secret_key").read_text().strip() == settings.secret_key


def test_an_https_base_url_turns_on_secure_cookies(environ: dict[str, str]) -> None:
    assert load_settings({**environ, "SWITCHBOARD_BASE_URL": "https://sb.example.com"}).secure_cookies


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("SWITCHBOARD_PORT", "abc", f"SWITCHBOARD_PORT='abc' is invalid: {PORT_EXPECTED}"),
        ("SWITCHBOARD_PORT", "0", f"SWITCHBOARD_PORT=0 is invalid: {PORT_EXPECTED}"),
        ("SWITCHBOARD_PORT", "70000", f"SWITCHBOARD_PORT=70000 is invalid: {PORT_EXPECTED}"),
        ("SWITCHBOARD_PORT", "80.5", f"SWITCHBOARD_PORT='80.5' is invalid: {PORT_EXPECTED}"),
        (
            "SWITCHBOARD_BASE_URL",
            "ftp://x",
            f"SWITCHBOARD_BASE_URL='ftp://x' is invalid: {BASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_BASE_URL",
            "switchboard.example.com",
            f"SWITCHBOARD_BASE_URL='switchboard.example.com' is invalid: {BASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_BASE_URL",
            "https://sb.example.com/switchboard/",
            f"SWITCHBOARD_BASE_URL='https://sb.example.com/switchboard' is invalid: {BASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_BASE_URL",
            "https://sb.example.com/?tenant=1",
            f"SWITCHBOARD_BASE_URL='https://sb.example.com/?tenant=1' is invalid: {BASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_BASE_URL",
            "https://sb.example.com#top",
            f"SWITCHBOARD_BASE_URL='https://sb.example.com#top' is invalid: {BASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_BASE_URL",
            "https://sb.example.com:port",
            f"SWITCHBOARD_BASE_URL='https://sb.example.com:port' is invalid: {BASE_URL_EXPECTED}",
        ),
        ("SWITCHBOARD_BASE_URL", "", f"SWITCHBOARD_BASE_URL='' is invalid: {BASE_URL_EXPECTED}"),
        (
            "SWITCHBOARD_DATABASE_URL",
            "mysql://sb@db/sb",
            f"SWITCHBOARD_DATABASE_URL='mysql://sb@db/sb' is invalid: {DATABASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_DATABASE_URL",
            "sqlite:///",
            f"SWITCHBOARD_DATABASE_URL='sqlite:///' is invalid: {DATABASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_DATABASE_URL",
            "var/switchboard.db",
            f"SWITCHBOARD_DATABASE_URL='var/switchboard.db' is invalid: {DATABASE_URL_EXPECTED}",
        ),
        (
            "SWITCHBOARD_ENV",
            "staging",
            'SWITCHBOARD_ENV=\'staging\' is invalid: expected "development" or "production"',
        ),
        (
            "SWITCHBOARD_SECRET_KEY",
            "too-short",
            f"SWITCHBOARD_SECRET_KEY='***' is invalid: {SECRET_EXPECTED}",
        ),
        (
            "SWITCHBOARD_HOST",
            "",
            "SWITCHBOARD_HOST='' is invalid: expected a host name or IP address to listen on",
        ),
        (
            "SWITCHBOARD_SESSION_LIFETIME_HOURS",
            "0",
            "SWITCHBOARD_SESSION_LIFETIME_HOURS=0 is invalid: expected an integer from 1 to 720",
        ),
        (
            "SWITCHBOARD_DATABASE_POOL_SIZE",
            "many",
            "SWITCHBOARD_DATABASE_POOL_SIZE='many' is invalid: expected an integer from 1 to 200",
        ),
        (
            "SWITCHBOARD_LOGIN_LOCKOUT_MINUTES",
            "100000",
            "SWITCHBOARD_LOGIN_LOCKOUT_MINUTES=100000 is invalid: expected an integer from 1 to 1440",
        ),
        (
            "SWITCHBOARD_DATA_DIR",
            " ",
            "SWITCHBOARD_DATA_DIR=' ' is invalid: expected a writable directory path",
        ),
    ],
)
def test_a_bad_value_is_refused_with_one_line_naming_the_variable(
    environ: dict[str, str], variable: str, raw: str, message: str
) -> None:
    assert refusal({**environ, variable: raw}) == message


def test_a_bad_database_url_is_refused_without_showing_its_password(environ: dict[str, str]) -> None:
    message = refusal({**environ, "SWITCHBOARD_DATABASE_URL": "mysql://sb:hunter2-secret@db/sb"})
    assert message == f"SWITCHBOARD_DATABASE_URL='mysql://sb:***@db/sb' is invalid: {DATABASE_URL_EXPECTED}"


def test_a_postgres_url_with_a_port_that_is_not_a_number_is_refused_without_its_password(
    environ: dict[str, str],
) -> None:
    message = refusal({**environ, "SWITCHBOARD_DATABASE_URL": "postgresql://sb:hunter2@db:five/sb"})
    assert (
        message
        == f"SWITCHBOARD_DATABASE_URL='postgresql://sb:***@db:five/sb' is invalid: {DATABASE_URL_EXPECTED}"
    )


def test_a_short_secret_key_is_refused_without_echoing_it(environ: dict[str, str]) -> None:
    message = refusal({**environ, "SWITCHBOARD_SECRET_KEY": "hunter2"})
    assert "hunter2" not in message
    assert message.startswith("SWITCHBOARD_SECRET_KEY=")


# -- the TOML file -------------------------------------------------------------------------------


def test_values_in_the_switchboard_table_of_the_toml_file_are_used(
    environ: dict[str, str], tmp_path: Path
) -> None:
    config = write_toml(
        tmp_path,
        '[switchboard]\nbase_url = "https://sb.example.com"\nport = 9100\nhost = "10.1.2.3"\n'
        f'secret_key = "{GOOD_KEY}"\nsession_lifetime_hours = "48"\n',
    )
    settings = load_settings(environ, str(config))
    assert settings.base_url == "https://sb.example.com"
    assert settings.port == 9100
    assert settings.host == "10.1.2.3"
    assert settings.secret_key == GOOD_KEY
    assert settings.session_lifetime_hours == 48


def test_the_toml_file_can_be_named_by_switchboard_config(environ: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path, "[switchboard]\nport = 9200\n")
    assert load_settings({**environ, "SWITCHBOARD_CONFIG": str(config)}).port == 9200


def test_a_toml_file_without_a_switchboard_table_is_read_at_its_top_level(
    environ: dict[str, str], tmp_path: Path
) -> None:
    config = write_toml(tmp_path, "port = 9300\n")
    assert load_settings(environ, str(config)).port == 9300


def test_environment_variables_override_the_toml_file(environ: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[switchboard]\nport = 9100\nhost = "10.1.2.3"\n')
    settings = load_settings({**environ, "SWITCHBOARD_PORT": "9400"}, str(config))
    assert settings.port == 9400
    assert settings.host == "10.1.2.3"


def test_an_unknown_key_in_the_toml_file_is_refused_by_name(environ: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[switchboard]\nport = 9100\ncolour = "blue"\n')
    assert refusal(environ, config) == f"SWITCHBOARD_CONFIG: unknown setting 'colour' in {config}"


def test_a_toml_file_that_is_not_valid_toml_is_refused_with_the_position(
    environ: dict[str, str], tmp_path: Path
) -> None:
    config = write_toml(tmp_path, "[switchboard\nport = 1\n")
    assert refusal(environ, config) == (
        f"SWITCHBOARD_CONFIG={str(config)!r} is not valid TOML: "
        "Expected ']' at the end of a table declaration (at line 1, column 13)"
    )


def test_a_missing_toml_file_is_refused(environ: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    message = refusal({**environ, "SWITCHBOARD_CONFIG": str(missing)})
    assert message == f"SWITCHBOARD_CONFIG={str(missing)!r} cannot be read: No such file or directory"


def test_a_folder_given_as_the_toml_file_is_refused(environ: dict[str, str], tmp_path: Path) -> None:
    assert (
        refusal(environ, tmp_path) == f"SWITCHBOARD_CONFIG={str(tmp_path)!r} cannot be read: Is a directory"
    )


def test_a_switchboard_key_that_is_not_a_table_is_refused(environ: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path, "switchboard = 3\n")
    assert refusal(environ, config) == f"SWITCHBOARD_CONFIG={str(config)!r}: [switchboard] must be a table"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("port = 1.5", f"SWITCHBOARD_PORT=1.5 is invalid: {PORT_EXPECTED}"),
        ('port = "eighty"', f"SWITCHBOARD_PORT='eighty' is invalid: {PORT_EXPECTED}"),
        (
            'host = ["a", "b"]',
            "SWITCHBOARD_HOST=['a', 'b'] is invalid: expected a host name or IP address to listen on",
        ),
        ('env = "staging"', 'SWITCHBOARD_ENV=\'staging\' is invalid: expected "development" or "production"'),
    ],
)
def test_a_bad_value_in_the_toml_file_is_refused_naming_the_setting(
    environ: dict[str, str], tmp_path: Path, line: str, message: str
) -> None:
    config = write_toml(tmp_path, f"[switchboard]\n{line}\n")
    assert refusal(environ, config) == message


# -- the secret key -------------------------------------------------------------------------------


def test_in_development_a_secret_key_is_generated_once_and_kept_owner_only(
    environ: dict[str, str], tmp_path: Path
) -> None:
    first = load_settings(environ)
    stored = tmp_path / "secret_key"
    assert stored.read_text() == first.secret_key + "\n"
    assert len(first.secret_key) >= MIN_SECRET_KEY_LENGTH
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    second = load_settings(environ)
    assert second.secret_key == first.secret_key


def test_a_given_secret_key_is_used_and_nothing_is_written(environ: dict[str, str], tmp_path: Path) -> None:
    assert load_settings({**environ, "SWITCHBOARD_SECRET_KEY": GOOD_KEY}).secret_key == GOOD_KEY
    assert not (tmp_path / "secret_key").exists()


def test_a_kept_secret_that_is_too_short_is_replaced_and_made_owner_only(
    environ: dict[str, str], tmp_path: Path
) -> None:
    stored = tmp_path / "secret_key"
    stored.write_text("short\n")
    stored.chmod(0o644)
    settings = load_settings(environ)
    assert len(settings.secret_key) >= MIN_SECRET_KEY_LENGTH
    assert stored.read_text() == settings.secret_key + "\n"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_a_data_folder_that_cannot_hold_the_secret_is_refused_by_name(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    message = refusal({"SWITCHBOARD_DATA_DIR": str(blocker / "state")})
    assert message == (
        f"SWITCHBOARD_DATA_DIR={str(blocker / 'state')!r} is invalid: cannot keep the development secret key "
        f"in {blocker / 'state' / 'secret_key'}: Not a directory"
    )


def test_production_without_a_secret_key_refuses_to_start(environ: dict[str, str], tmp_path: Path) -> None:
    message = refusal({**environ, "SWITCHBOARD_ENV": "production"})
    assert message == f"SWITCHBOARD_SECRET_KEY is required when SWITCHBOARD_ENV=production: {SECRET_EXPECTED}"
    assert not (tmp_path / "secret_key").exists()


def test_production_with_a_short_secret_key_refuses_to_start(environ: dict[str, str]) -> None:
    message = refusal({**environ, "SWITCHBOARD_ENV": "production", "SWITCHBOARD_SECRET_KEY": "x" * 31})
    assert message == f"SWITCHBOARD_SECRET_KEY='***' is invalid: {SECRET_EXPECTED}"


def test_production_ignores_a_kept_development_secret(environ: dict[str, str]) -> None:
    load_settings(environ)
    message = refusal({**environ, "SWITCHBOARD_ENV": "production"})
    assert message.startswith("SWITCHBOARD_SECRET_KEY is required when SWITCHBOARD_ENV=production")


def test_production_with_a_long_secret_key_starts(environ: dict[str, str]) -> None:
    settings = load_settings({**environ, "SWITCHBOARD_ENV": "production", "SWITCHBOARD_SECRET_KEY": GOOD_KEY})
    assert settings.is_production
    assert settings.secret_key == GOOD_KEY


OAUTH_SETTINGS = {
    "access_token_lifetime_minutes": (60, 1, 1440),
    "refresh_token_lifetime_days": (30, 1, 365),
    "refresh_reuse_grace_seconds": (10, 0, 300),
    "authorization_code_lifetime_seconds": (600, 10, 600),
    "unused_client_lifetime_hours": (24, 1, 8760),
    "token_requests_per_minute_per_client": (120, 1, 100000),
    "token_requests_per_minute_per_ip": (600, 1, 100000),
    "registrations_per_hour_per_ip": (60, 1, 100000),
}


@pytest.mark.parametrize(("field", "limits"), OAUTH_SETTINGS.items())
def test_oauth_settings_have_safe_defaults_and_refuse_values_out_of_range(
    environ: dict[str, str], field: str, limits: tuple[int, int, int]
) -> None:
    default, low, high = limits
    variable = f"SWITCHBOARD_{field.upper()}"
    assert getattr(load_settings(environ), field) == default
    assert getattr(load_settings({**environ, variable: str(high)}), field) == high
    for bad in (low - 1, high + 1):
        with pytest.raises(SettingsError, match=f"^{variable}={bad} is invalid: expected an integer from"):
            load_settings({**environ, variable: str(bad)})
