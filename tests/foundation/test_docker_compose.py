"""docker/: the compose file's structure, the build context and the start-up scripts.

No Docker engine runs here, so the compose file is checked as data (after compose's
own `${VAR:-default}` / `${VAR:?error}` interpolation) and the scripts are run by
`sh` with a stand-in `feedbackvault` on PATH. CI also runs `docker compose config`
where a compose CLI is installed (.ci/run).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from feedbackvault.settings import Settings, same_database

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
PASSWORDS = {"FEEDBACKVAULT_DB_PASSWORD": "d4t4pw", "FEEDBACKVAULT_KEYS_DB_PASSWORD": "k3yspw"}
PG_HEALTHCHECK = ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}")


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset or empty."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Substitute variables the way compose does, through lists and mappings."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, argument = match.groups()
        current = env.get(name, "")
        if kind == "?" and not current:
            raise MissingVariable(f"{name}: {argument}")
        if kind == "-" and not current:
            return argument
        return current

    return _VARIABLE.sub(substitute, value)


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Load docker/compose.yaml (anchors and merge keys resolved) and interpolate it."""
    raw = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return dict(interpolate(raw, PASSWORDS if env is None else env))


def copies() -> dict[str, str]:
    """Map each destination of the Dockerfile's COPY lines to its source."""
    found = {}
    for line in (DOCKER / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, destination = line.split()[1:]
            for source in sources:
                found[destination if len(sources) == 1 else f"{destination}{source}"] = source
    return found


def test_every_service_restarts_and_has_a_healthcheck() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "keysdb", "app", "maintain"}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        check = service["healthcheck"]["test"]
        assert check[0] in ("CMD", "CMD-SHELL") and len(check) > 1, name


def test_postgres_is_checked_over_tcp_not_the_init_only_socket() -> None:
    services = compose()["services"]
    for name in ("db", "keysdb"):
        assert services[name]["healthcheck"]["test"] == PG_HEALTHCHECK


def test_data_and_key_store_are_separate_servers_with_separate_volumes() -> None:
    document = compose()
    services = document["services"]
    mounts = {
        name: [v.split(":")[0] for v in services[name]["volumes"] if v.endswith("/postgresql/data")]
        for name in ("db", "keysdb")
    }
    assert len(mounts["db"]) == len(mounts["keysdb"]) == 1
    assert mounts["db"] != mounts["keysdb"]
    assert {mounts["db"][0], mounts["keysdb"][0]} <= set(document["volumes"])
    env = services["app"]["environment"]
    settings = Settings.from_env(env)  # the real check: URLs usable, stores apart
    assert not same_database(settings.database_url, settings.keystore_url)
    assert "@db:5432/" in settings.database_url and "@keysdb:5432/" in settings.keystore_url


def test_the_service_waits_for_healthy_databases_and_maintenance_for_the_service() -> None:
    services = compose()["services"]
    assert services["app"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "keysdb": {"condition": "service_healthy"},
    }
    assert services["maintain"]["depends_on"] == {"app": {"condition": "service_healthy"}}


def test_maintenance_runs_the_maintain_command_in_a_loop_with_the_services_settings() -> None:
    services = compose()["services"]
    maintain, app = services["maintain"], services["app"]
    [loop] = maintain["entrypoint"]
    assert copies()[loop] == "docker/maintain.sh"
    script = (DOCKER / "maintain.sh").read_text()
    assert "feedbackvault maintain" in script and "while :" in script
    assert maintain["environment"]["FEEDBACKVAULT_MAINTAIN_EVERY"] == "300"
    shared = {
        k: v for k, v in maintain["environment"].items() if k != "FEEDBACKVAULT_MAINTAIN_EVERY"
    }
    assert shared == app["environment"]
    assert maintain["volumes"] == app["volumes"]  # the file keys init created
    assert maintain["build"] == app["build"] and maintain["image"] == app["image"]
    instance_dir = re.search(
        r"FEEDBACKVAULT_INSTANCE_DIR=(\S+)", (DOCKER / "Dockerfile").read_text()
    )
    assert instance_dir and app["volumes"] == [f"instance:{instance_dir.group(1)}"]


def test_passwords_come_from_the_environment_and_are_required() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    assert "POSTGRES_PASSWORD: feedbackvault" not in text
    for missing in PASSWORDS:
        env = {k: v for k, v in PASSWORDS.items() if k != missing}
        with pytest.raises(MissingVariable, match=f"{missing}: set {missing} in docker/.env"):
            compose(env)
    example = (DOCKER / ".env.example").read_text()
    assert all(f"\n{name}=\n" in example for name in PASSWORDS)


def test_the_build_context_is_the_repository_and_both_services_build_the_same_image() -> None:
    app = compose()["services"]["app"]
    assert (DOCKER / app["build"]["context"]).resolve() == ROOT
    assert (ROOT / app["build"]["dockerfile"]).is_file()


# .dockerignore, as Docker reads it: the last matching line wins, and a line that
# matches a folder matches everything in it.
def dockerignore_rules(text: str) -> list[tuple[re.Pattern[str], bool]]:
    """Compile .dockerignore lines into (pattern, excludes) in order."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?|\[[^]]*\])", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                part, part if part.startswith("[") else re.escape(part)
            )
        rules.append((re.compile(f"{regex}"), not negated))
    return rules


def shipped(root: Path, rules: list[tuple[re.Pattern[str], bool]]) -> Iterator[str]:
    """Yield the files under root that a build with these rules would send."""

    def excluded(relative: str) -> bool:
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        result = False
        for pattern, excludes in rules:
            if any(pattern.fullmatch(prefix) for prefix in prefixes):
                result = excludes
        return result

    reincluded = [p.pattern for p, excludes in rules if not excludes]
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        base = "" if base == "." else f"{base}/"
        # Docker walks every folder; skipping those nothing re-includes changes no answer.
        dirs[:] = [
            d
            for d in dirs
            if not excluded(base + d) or any(p.startswith(re.escape(base + d)) for p in reincluded)
        ]
        for name in files:
            if not excluded(base + name):
                yield base + name


def test_dockerignore_ships_only_what_the_image_copies(tmp_path: Path) -> None:
    tree = {
        ".venv/lib/python3.11/site-packages/flask/app.py": "x" * 1000,
        "instance/keys/blind-index.key": "secret",
        "instance/feedbackvault.db": "rows",
        ".git/config": "[core]",
        "docker/.env": "FEEDBACKVAULT_DB_PASSWORD=pw",
        "docker/compose.yaml": "services: {}",
        "docker/entrypoint.sh": "#!/bin/sh",
        "docker/maintain.sh": "#!/bin/sh",
        "feedbackvault/app.py": "app",
        "feedbackvault/__pycache__/app.cpython-311.pyc": "bytecode",
        "feedbackvault/storage/local.db": "rows",
        "migrations/data/versions/0001_initial.py": "rev",
        "policies/purposes.yaml": "purposes: {}",
        "tests/test_x.py": "test",
        "bench/results/summary.json": "{}",
        ".mypy_cache/x.json": "{}",
        "pyproject.toml": "[project]",
        "README.md": "readme",
    }
    for name, content in tree.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    rules = dockerignore_rules((ROOT / ".dockerignore").read_text())

    sent = set(shipped(tmp_path, rules))

    assert sent == {
        "docker/entrypoint.sh",
        "docker/maintain.sh",
        "feedbackvault/app.py",
        "migrations/data/versions/0001_initial.py",
        "policies/purposes.yaml",
        "pyproject.toml",
        "README.md",
    }


def test_the_real_build_context_is_small_and_holds_every_copied_source() -> None:
    rules = dockerignore_rules((ROOT / ".dockerignore").read_text())
    sent = set(shipped(ROOT, rules))
    for source in copies().values():
        assert source in sent or any(name.startswith(f"{source}/") for name in sent), source
    assert not {n for n in sent if n.startswith((".venv/", "instance/", ".git/", "tests/"))}
    assert not {n for n in sent if "__pycache__" in n or n.endswith(".db")}
    assert sum((ROOT / name).stat().st_size for name in sent) < 5 * 1024 * 1024


# The scripts, run by sh with a stand-in `feedbackvault` that logs its calls.
def stand_in(folder: Path, body: str) -> dict[str, str]:
    """Put a fake `feedbackvault` first on PATH; return the environment to run with."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "feedbackvault"
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{folder}/calls"\n{body}\n')
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


def calls(folder: Path) -> list[str]:
    """Return the arguments of each call the stand-in received."""
    log = folder / "calls"
    return log.read_text().splitlines() if log.exists() else []


def test_entrypoint_retries_init_until_the_databases_answer(tmp_path: Path) -> None:
    # Fails twice (databases still starting), then succeeds.
    env = stand_in(tmp_path, f'[ "$(wc -l < "{tmp_path}/calls")" -ge 3 ] || exit 1')
    done = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), "echo", "serving"],
        env={**env, "FEEDBACKVAULT_INIT_DELAY": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["init", "init", "init"]
    assert done.stdout.strip() == "serving"
    assert "try 2 of 30" in done.stderr


def test_entrypoint_gives_up_after_its_tries_so_the_container_restarts(tmp_path: Path) -> None:
    env = stand_in(tmp_path, "exit 1")
    done = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), "echo", "serving"],
        env={**env, "FEEDBACKVAULT_INIT_DELAY": "0", "FEEDBACKVAULT_INIT_TRIES": "3"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "serving" not in done.stdout
    assert calls(tmp_path) == ["init"] * 3 and "failed 3 times" in done.stderr


def run_loop(tmp_path: Path, body: str, runs: int) -> tuple[int, str, Path]:
    """Start the maintenance loop every second, let it run `runs` times, then stop it."""
    env = stand_in(tmp_path / "bin", body)
    heartbeat = tmp_path / "heartbeat"
    env |= {"FEEDBACKVAULT_MAINTAIN_EVERY": "1", "FEEDBACKVAULT_MAINTAIN_HEARTBEAT": str(heartbeat)}
    loop = subprocess.Popen(
        ["sh", str(DOCKER / "maintain.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(calls(tmp_path / "bin")) < runs and time.monotonic() < deadline:
        time.sleep(0.05)
    assert loop.poll() is None, "the loop must keep running"
    loop.send_signal(signal.SIGTERM)
    _, stderr = loop.communicate(timeout=10)
    assert calls(tmp_path / "bin")[:runs] == ["maintain"] * runs
    return loop.returncode, stderr, heartbeat


def healthy(heartbeat: Path, every: str = "1") -> bool:
    """Run the loop's healthcheck."""
    env = {**os.environ, "FEEDBACKVAULT_MAINTAIN_EVERY": every}
    env["FEEDBACKVAULT_MAINTAIN_HEARTBEAT"] = str(heartbeat)
    done = subprocess.run(["sh", str(DOCKER / "maintain.sh"), "--healthy"], env=env, check=False)
    return done.returncode == 0


def test_maintenance_loop_runs_maintain_repeatedly_and_beats(tmp_path: Path) -> None:
    code, _, heartbeat = run_loop(tmp_path, "exit 0", runs=2)
    assert code == 0  # stopped by SIGTERM between runs
    assert healthy(heartbeat)
    stale = time.time() - 3600
    os.utime(heartbeat, (stale, stale))
    assert not healthy(heartbeat, every="300")


def test_a_failing_maintain_run_is_reported_and_the_loop_goes_on(tmp_path: Path) -> None:
    code, stderr, heartbeat = run_loop(tmp_path, "exit 3", runs=2)
    assert code == 0
    assert "feedbackvault maintain failed (exit 3); next run in 1s" in stderr
    assert not heartbeat.exists() and not healthy(heartbeat)


@pytest.mark.parametrize("every", ["five", "0", "-5", "1.5"])
def test_maintenance_loop_refuses_a_bad_interval(tmp_path: Path, every: str) -> None:
    env = stand_in(tmp_path, "exit 0")
    done = subprocess.run(
        ["sh", str(DOCKER / "maintain.sh")],
        env={**env, "FEEDBACKVAULT_MAINTAIN_EVERY": every},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 2 and "FEEDBACKVAULT_MAINTAIN_EVERY" in done.stderr
    assert calls(tmp_path) == []


def test_entrypoint_with_the_real_cli_migrates_then_runs_the_command(tmp_path: Path) -> None:
    # What `docker compose exec app feedbackvault tokens create ...` meets: an instance
    # the entrypoint initialised. Here on SQLite, with the command as the container's CMD.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    command = ["feedbackvault", "tokens", "create", "--role", "collector", "--name", "web"]
    done = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "databases: data and key store migrated to the newest schema" in lines
    assert lines[-1].startswith("fv_") and " " not in lines[-1]
