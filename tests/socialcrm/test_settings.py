"""Settings come from the environment only: the typed readers and the settings module itself.

The settings module is imported in a fresh interpreter with a controlled environment, because
it is evaluated once per process and the test process has already loaded it.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from socialcrm.env import EnvError, env_bool, env_int, env_list, env_str
from tests.processes import BASE_DIR, run_python

# Runs in the child interpreter: sets Django up and prints what the tests look at as JSON.
PROBE = """
import ast
import json
import re
import django
django.setup()
from django.conf import settings
from django.utils import timezone
from socialcrm.celery import app
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "DATABASE": {key: settings.DATABASES["default"][key] for key in ("ENGINE", "NAME", "HOST", "PORT")},
    "CACHE": settings.CACHES["default"],
    "broker_url": app.conf.broker_url,
    "task_always_eager": app.conf.task_always_eager,
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "TIME_ZONE": settings.TIME_ZONE,
    "current_timezone": timezone.get_current_timezone_name(),
}, default=str))
"""


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Set Django up in a child process that sees only ``env`` and run PROBE."""
    return run_python("-c", PROBE, env=env)


def settings_under(env: dict[str, str]) -> dict[str, Any]:
    result = start(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the typed readers (socialcrm/env.py) ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("0", False), ("true", True), ("false", False), (" TRUE ", True), ("False", False)],
)
def test_env_bool_accepts_the_usual_spellings(raw: str, expected: bool) -> None:
    assert env_bool("DEBUG", not expected, environ={"DEBUG": raw}) is expected


@pytest.mark.parametrize("raw", ["yes please", "2", "enabled", "tru"])
def test_env_bool_rejects_what_it_cannot_parse(raw: str) -> None:
    with pytest.raises(EnvError, match="DEBUG"):
        env_bool("DEBUG", False, environ={"DEBUG": raw})


def test_env_bool_falls_back_to_the_default_only_when_unset() -> None:
    assert env_bool("DEBUG", True, environ={}) is True
    assert env_bool("DEBUG", False, environ={}) is False


def test_env_int_parses_integers_and_defaults_when_unset_or_blank() -> None:
    assert env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": "587"}) == 587
    assert env_int("EMAIL_PORT", 25, environ={}) == 25
    assert env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": " "}) == 25


@pytest.mark.parametrize("raw", ["twenty", "25x", "2.5"])
def test_env_int_rejects_junk(raw: str) -> None:
    with pytest.raises(EnvError, match="EMAIL_PORT"):
        env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": raw})


def test_env_list_splits_on_commas_and_drops_blank_items() -> None:
    environ = {"ALLOWED_HOSTS": " crm.example.com, ,www.example.com,"}
    assert env_list("ALLOWED_HOSTS", [], environ=environ) == ["crm.example.com", "www.example.com"]
    assert env_list("ALLOWED_HOSTS", ["localhost"], environ={"ALLOWED_HOSTS": ""}) == []


def test_env_list_default_is_a_copy() -> None:
    default = ["localhost"]
    value = env_list("ALLOWED_HOSTS", default, environ={})
    value.append("evil.example")
    assert default == ["localhost"]


def test_secret_is_read_from_the_file_named_by_name_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("s3cret-from-file\n", encoding="utf-8")
    environ = {"SECRET_KEY_FILE": str(secret), "SECRET_KEY": "from-the-variable"}
    # The file wins, and its trailing newline (editors add one) is not part of the secret.
    assert env_str("SECRET_KEY", environ=environ) == "s3cret-from-file"


def test_unreadable_secret_file_is_an_error_not_a_blank_secret(tmp_path: Path) -> None:
    with pytest.raises(EnvError, match="SECRET_KEY_FILE"):
        env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_env_str_default_when_unset() -> None:
    assert env_str("TIME_ZONE", "UTC", environ={}) == "UTC"


# --- the settings module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def bare() -> dict[str, Any]:
    """Settings of a fresh checkout: no variables set at all."""
    return settings_under({})


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Settings of a production-like deployment."""
    return settings_under(
        {
            "DEBUG": "0",
            "SECRET_KEY": "k" * 60,
            "ALLOWED_HOSTS": "crm.example.com,crm-internal.example.com",
            "DATABASE_URL": "postgres://crm@db.example.com:5433/socialcrm",
            "REDIS_URL": "redis://cache.example.com:6379/2",
            "TIME_ZONE": "Europe/Berlin",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "VAR_DIR": str(tmp_path_factory.mktemp("var")),
        }
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off() -> None:
    result = start({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_refuses_to_start_on_an_unparseable_debug_value() -> None:
    result = start({"DEBUG": "yes please"})
    assert result.returncode != 0
    assert "DEBUG='yes please' is not a boolean" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("f" * 60 + "\n", encoding="utf-8")
    loaded = settings_under({"DEBUG": "0", "SECRET_KEY_FILE": str(secret)})
    assert loaded["DEBUG"] is False
    assert loaded["SECRET_KEY"] == "f" * 60


def test_a_bare_checkout_runs_in_debug_on_localhost(bare: dict[str, Any]) -> None:
    assert bare["DEBUG"] is True
    assert bare["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_database_defaults_to_a_sqlite_file_under_var(bare: dict[str, Any]) -> None:
    assert bare["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(bare["DATABASE"]["NAME"]) == BASE_DIR / "var" / "socialcrm.sqlite3"


def test_without_redis_tasks_run_eagerly_on_the_memory_broker(bare: dict[str, Any]) -> None:
    assert bare["task_always_eager"] is True
    assert bare["broker_url"] == "memory://"
    assert bare["CACHE"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"


def test_mail_goes_to_the_console_by_default(bare: dict[str, Any]) -> None:
    assert bare["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_time_zone_defaults_to_utc(bare: dict[str, Any]) -> None:
    assert bare["TIME_ZONE"] == "UTC"


def test_allowed_hosts_are_read_as_a_list(configured: dict[str, Any]) -> None:
    assert configured["DEBUG"] is False
    assert configured["ALLOWED_HOSTS"] == ["crm.example.com", "crm-internal.example.com"]


def test_database_url_selects_postgresql(configured: dict[str, Any]) -> None:
    assert configured["DATABASE"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "socialcrm",
        "HOST": "db.example.com",
        "PORT": 5433,
    }


def test_redis_url_selects_the_real_broker_and_the_redis_cache(configured: dict[str, Any]) -> None:
    # Read back from the Celery app: a misspelled CELERY_ setting would be silently ignored.
    assert configured["broker_url"] == "redis://cache.example.com:6379/2"
    assert configured["task_always_eager"] is False
    assert configured["CACHE"]["BACKEND"] == "socialcrm.cache.DegradingRedisCache"
    assert configured["CACHE"]["LOCATION"] == "redis://cache.example.com:6379/2"


def test_email_backend_is_configurable(configured: dict[str, Any]) -> None:
    assert configured["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"


def test_time_zone_is_honoured(configured: dict[str, Any]) -> None:
    assert configured["TIME_ZONE"] == "Europe/Berlin"
    assert configured["current_timezone"] == "Europe/Berlin"


def variables_read_by_settings() -> set[str]:
    """Names passed as literals to the env readers in settings.py and env.py."""
    readers = {"env_str", "env_bool", "env_int", "env_list"}
    names = set()
    for module in ("socialcrm/settings.py", "socialcrm/env.py"):
        for node in ast.walk(ast.parse((BASE_DIR / module).read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in readers
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def test_every_variable_is_documented_in_the_readme() -> None:
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    read = variables_read_by_settings()
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read, "the checker finds no variables"
    assert sorted(read - documented) == [], "add these to the README's configuration table"
    assert sorted(documented - read) == [], "the README documents variables that settings no longer read"
