"""Lint of the container files (no Docker engine here: the image build itself is not run in tests).

Checks the rules of docs/deploy.md: pinned base (tag and digest), non-root USER, no compiler in the final
stage, HEALTHCHECK, every COPY source exists and is let through .dockerignore, no secret in the image or
in compose, compose's API keys from a secrets file through HC_API_KEYS_FILE, one shared volume.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SECRET_WORDS = re.compile(r"(api_keys?|salt|password|secret|token)\s*[=:]\s*\S", re.IGNORECASE)


def stages(text: str) -> list[list[str]]:
    """Dockerfile instructions (continuations joined, comments dropped), split by FROM."""
    joined = re.sub(r"\\\n", " ", text)
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    out: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            out.append([])
        if out:
            out[-1].append(line)
    return out


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text(encoding="utf-8")


def test_base_image_is_pinned_by_exact_tag_and_digest(dockerfile):
    arg = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert arg, "the base image is one ARG shared by both stages"
    image = arg.group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?@sha256:[0-9a-f]{64}", image), image
    froms = [s[0] for s in stages(dockerfile)]
    assert froms == ["FROM ${PYTHON_IMAGE} AS builder", "FROM ${PYTHON_IMAGE} AS runtime"]


def test_final_stage_runs_as_non_root_without_compiler_with_healthcheck(dockerfile):
    final = stages(dockerfile)[-1]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users
    assert not any(re.search(r"build-essential|\bgcc\b|\bg\+\+|apt-get install", line) for line in final)
    assert any(line.startswith("COPY --from=builder /opt/venv") for line in final)
    health = [line for line in final if line.startswith("HEALTHCHECK ")]
    assert len(health) == 1 and "deploy/healthcheck.py" in health[0]
    assert any(line.startswith("EXPOSE ") and "8000" in line for line in final)
    entry = [line for line in final if line.startswith("ENTRYPOINT ")]
    assert entry == ['ENTRYPOINT ["/app/deploy/entrypoint.sh"]']
    builder = stages(dockerfile)[0]
    assert any("uv pip sync" in line and "requirements.lock" in line for line in builder)


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics (last match wins, `!` re-includes, a folder pattern covers its content)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.replace("**/", "")) for p in prefixes):
            ignored = not negate
    return ignored


def test_every_copy_source_exists_and_is_in_the_build_context(dockerfile):
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for stage in stages(dockerfile):
        for line in stage:
            if line.startswith("COPY ") and "--from=" not in line:
                words = [w for w in shlex.split(line)[1:] if not w.startswith("--")]
                sources += words[:-1]
    assert len(sources) >= 10
    for source in sources:
        assert (REPO / source).exists(), f"COPY source {source} does not exist"
        assert not _ignored(source, patterns), f"COPY source {source} is excluded by .dockerignore"
    for private in (
        "data/warehouse.duckdb",
        "artifacts/models",
        "deploy/secrets/api_keys",
        ".venv",
        ".git",
        "tests/conftest.py",
        "api/__pycache__/x.pyc",
    ):
        assert _ignored(private, patterns), f"{private} would be sent to the build context"


def test_the_image_holds_every_runtime_package_and_not_the_generator(dockerfile):
    """Each top-level package the runtime roles import (api, dashboard, monitoring, models_ml, warehouse and
    the shared hc_contracts) is copied into both stages; the synthetic generator is not needed at run time."""
    build, final = stages(dockerfile)[0], stages(dockerfile)[-1]
    runtime = {"hc_contracts", "api", "dashboard", "monitoring", "models_ml", "warehouse"}
    for stage in (build, final):
        copied = {shlex.split(line)[1].rstrip("/") for line in stage
                  if line.startswith("COPY ") and "--from=" not in line}
        assert runtime <= copied, f"not copied into the image: {sorted(runtime - copied)}"
        assert "synthetic" not in copied


def test_no_secret_in_the_image_or_compose(dockerfile):
    compose = (REPO / "compose.yaml").read_text(encoding="utf-8")
    for name, text in (("Dockerfile", dockerfile), ("compose.yaml", compose)):
        for line in text.splitlines():
            code = line.split("#", 1)[0]
            if "_FILE" in code or "secrets" in code.lower():
                continue
            assert not SECRET_WORDS.search(code), f"{name}: a secret-looking value: {line.strip()}"
    assert "HC_API_KEYS=" not in dockerfile and "HC_API_LOG_SALT=" not in dockerfile
    tracked = subprocess.run(["git", "ls-files", "deploy"], cwd=REPO, capture_output=True, text=True).stdout
    assert "deploy/secrets/" not in tracked


def test_compose_runs_the_three_services_on_one_volume_with_keys_from_a_secrets_file():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    running = {name for name, s in services.items() if "profiles" not in s}
    assert running == {"api", "dashboard", "drift-scheduler"}
    assert {services[n]["command"][0] for n in services} == {
        "api",
        "dashboard",
        "drift-scheduler",
        "train",
        "warehouse",
    }
    for name, service in services.items():
        assert service["volumes"] == ["hc-data:/srv/hc"], name
        env = service["environment"]
        assert env["HC_WAREHOUSE"].startswith("/srv/hc/") and env["HC_ARTIFACTS"].startswith("/srv/hc/"), name
    api = services["api"]
    assert api["environment"]["HC_API_KEYS_FILE"] == "/run/secrets/api_keys"
    assert "api_keys" in api["secrets"] and "HC_API_KEYS" not in api["environment"]
    assert compose["secrets"]["api_keys"]["file"].startswith("./deploy/secrets/")
    assert services["dashboard"]["environment"]["HC_API_KEY_FILE"].startswith("/run/secrets/")
    assert services["dashboard"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert "HC_DRIFT_SCHEDULE" in services["drift-scheduler"]["environment"]
    # ports published on loopback unless the operator says otherwise (TLS proxy in front)
    assert api["ports"][0].startswith("${HC_API_PUBLISH:-127.0.0.1:")


def test_entrypoint_knows_every_role_and_refuses_an_unreadable_secret(tmp_path):
    script = REPO / "deploy" / "entrypoint.sh"
    text = script.read_text()
    for role in ("api)", "dashboard)", "drift-scheduler)", "train)", "warehouse)"):
        assert f"    {role}" in text
    assert "exec python -m gunicorn -c python:api.gunicorn_conf" in text
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path), "HC_API_LOG_SALT_FILE": str(tmp_path / "absent")}
    result = subprocess.run([str(script), "api"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"HC_API_LOG_SALT_FILE={tmp_path / 'absent'} is not a readable file" in result.stderr
    assert (tmp_path / "hc-role").read_text().strip() == "api"


def test_make_serve_prod_runs_the_entrypoint_api_role():
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nserve-prod:", 1)[1].split("\n\n", 1)[0]
    assert "exec deploy/entrypoint.sh api" in recipe and "$(VENV)/bin" in recipe


def test_scheduler_healthcheck_reads_the_heartbeat(tmp_path):
    import importlib.util
    import json
    from datetime import UTC, datetime, timedelta

    spec = importlib.util.spec_from_file_location("healthcheck", REPO / "deploy" / "healthcheck.py")
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    env = {"HC_ARTIFACTS": str(tmp_path)}
    assert not healthcheck.healthy("drift-scheduler", env)  # no state yet
    state = tmp_path / "reports" / "drift" / "scheduler.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"heartbeat": datetime.now(UTC).isoformat()}))
    assert healthcheck.healthy("drift-scheduler", env)
    state.write_text(json.dumps({"heartbeat": (datetime.now(UTC) - timedelta(minutes=10)).isoformat()}))
    assert not healthcheck.healthy("drift-scheduler", env)
    assert healthcheck.healthy("train", env)


def test_a_bad_setting_stops_the_api_role_with_the_variable_named(tmp_path):
    import sys

    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "TMPDIR": str(tmp_path),
        "HC_API_WORKERS": "0",
        "HC_API_LOG_SALT": "s",
    }
    result = subprocess.run(
        [str(REPO / "deploy" / "entrypoint.sh"), "api"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        "invalid API settings: HC_API_WORKERS='0': Input should be greater than or equal to 1"
        in result.stderr
    )
