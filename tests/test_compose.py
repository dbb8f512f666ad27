"""docker-compose.yml, the Dockerfile and .dockerignore, checked without a Docker engine: every
service is there and wired as DESIGN.md says (health checks, start order, ports, environment),
the four app services share one image, and every command names code that exists."""

import importlib
import re
import shlex
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "api", "worker", "web")
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def command_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def env_of(service: str) -> dict[str, str]:
    environment = SERVICES[service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def depends_on(service: str) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in SERVICES[service]["depends_on"].items()}


def healthcheck(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def published_container_ports(service: str) -> set[int]:
    return {int(str(mapping).rsplit(":", 1)[1]) for mapping in SERVICES[service]["ports"]}


def test_every_service_is_there():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "api", "worker", "web"}


def test_postgres_16_keeps_its_data_in_a_volume_and_reports_health():
    postgres = SERVICES["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in healthcheck("postgres")
    volumes = [str(v) for v in postgres["volumes"]]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in volumes)
    named = {v.split(":", 1)[0] for v in volumes}
    assert named <= set(COMPOSE["volumes"]), "the data volume must be a named volume"


def test_redis_7_reports_health():
    assert SERVICES["redis"]["image"].startswith("redis:7")
    assert "redis-cli ping" in healthcheck("redis")


def test_start_order():
    assert depends_on("migrate") == {"postgres": "service_healthy"}
    assert depends_on("api") == {"migrate": "service_completed_successfully",
                                 "redis": "service_healthy"}
    assert depends_on("worker")["redis"] == "service_healthy"
    assert depends_on("worker")["migrate"] == "service_completed_successfully"
    assert depends_on("web") == {"api": "service_healthy"}
    # A one-shot: restarting it after success would loop.
    assert SERVICES["migrate"].get("restart", "no") == "no"


def test_ports_and_health_checks_of_the_app():
    assert published_container_ports("api") == {8000}
    assert published_container_ports("web") == {8080}
    assert "127.0.0.1:8000/healthz" in healthcheck("api")
    assert "127.0.0.1:8080/healthz" in healthcheck("web")
    assert "arq --check services.worker.main.WorkerSettings" in healthcheck("worker")
    assert "--port 8000" in " ".join(command_of("api"))
    assert "--port 8080" in " ".join(command_of("web"))
    for service in ("api", "web"):
        assert "--host 0.0.0.0" in " ".join(command_of(service))


def test_the_app_services_share_one_image_build():
    builds = {repr(SERVICES[s].get("build")) for s in APP_SERVICES}
    images = {SERVICES[s].get("image") for s in APP_SERVICES}
    assert len(builds) == 1 and None not in [SERVICES[s].get("build") for s in APP_SERVICES]
    assert len(images) == 1
    build = SERVICES["api"]["build"]
    context = build["context"] if isinstance(build, dict) else build
    dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
    assert (ROOT / context / dockerfile).resolve() == ROOT / "Dockerfile"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_environment_of_the_app_services(service):
    env = env_of(service)
    assert env["HEARTH_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["HEARTH_DATABASE_URL"]
    assert env["HEARTH_REDIS_URL"] == "redis://redis:6379/0"
    # Required, with a message, never a default baked into the file.
    assert env["HEARTH_SECRET_KEY"].startswith("${HEARTH_SECRET_KEY:?")
    assert env["HEARTH_ADMIN_EMAIL"].startswith("${HEARTH_ADMIN_EMAIL")
    assert env["HEARTH_ADMIN_PASSWORD"].startswith("${HEARTH_ADMIN_PASSWORD")
    assert env["HEARTH_JSON_LOGS"] == "true"
    assert env["HEARTH_API_URL"] == "http://api:8000"
    # Only the names the services read (a typo would silently be ignored).
    from shared.settings import Settings
    from web.settings import WebSettings

    known = {f"HEARTH_{name.upper()}" for name in
             {*Settings.model_fields, *WebSettings.model_fields}}
    assert set(env) <= known, set(env) - known


def test_the_secret_is_the_only_required_variable():
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.findall(r"\$\{(\w+):\?", text) == ["HEARTH_SECRET_KEY"]


def _import(path: str, separator: str) -> object:
    module, _, attribute = path.rpartition(separator)
    return getattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize(("service", "target", "route"), [
    ("api", "services.api.main:app", "/healthz"),
    ("web", "web.main:app", "/healthz"),
])
async def test_uvicorn_commands_name_real_apps(service, target, route):
    command = command_of(service)
    assert command[:2] == ["uvicorn", target]
    app = _import(target, ":")
    # The path its health check asks for answers.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://compose.test") as client:
        assert (await client.get(route)).status_code == 200


def test_worker_command_names_the_real_worker_settings():
    command = command_of("worker")
    assert command == ["arq", "services.worker.main.WorkerSettings"]
    settings = _import(command[1], ".")
    assert settings.functions or settings.cron_jobs


def test_migrate_runs_alembic_on_the_repositorys_migrations():
    assert command_of("migrate") == ["alembic", "upgrade", "head"]
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "alembic.ini")
    assert (ROOT / config["alembic"]["script_location"] / "env.py").exists()
    assert list((ROOT / "migrations" / "versions").glob("*.py"))


def test_dockerfile_builds_a_slim_non_root_image_from_the_lock():
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.M)
    assert "uv sync --frozen --no-dev" in DOCKERFILE
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in {"root", "0"}
    # The same uv as `make` installs.
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert f"uv=={makefile_uv.group(1)}" in DOCKERFILE


def test_dockerfile_copies_what_exists_and_every_package():
    sources = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            sources += line.split()[1:-1]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for needed in [*packages, "pyproject.toml", "uv.lock", pyproject["project"]["readme"],
                   "alembic.ini", "migrations"]:
        assert needed in sources, f"the image lacks {needed}"


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "var", ".env"} <= ignored
    copied = {source for line in DOCKERFILE.splitlines() if line.startswith("COPY ")
              for source in line.split()[1:-1]}
    assert not copied & ignored
