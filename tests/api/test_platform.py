"""Health, readiness, metrics, error shape, OpenAPI document and the first admin."""

from sqlmodel import select

from services.api.staff import service as staff_service
from shared.db import session_scope
from shared.embedded_redis import free_port
from shared.models import StaffUser
from shared.settings import Settings, get_settings


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_names_redis_when_it_is_down(client, monkeypatch):
    monkeypatch.setenv("HEARTH_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    try:
        response = await client.get("/readyz")
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "down"}
    assert "redis" in response.json()["detail"]


async def test_metrics_count_requests_by_route_template(client, admin):
    await client.get("/v1/communities/12345", headers=admin["headers"])
    metrics = (await client.get("/metrics")).text
    assert 'route="/v1/communities/{community_id}",status="404"' in metrics
    assert "/v1/communities/12345" not in metrics


async def test_unexpected_errors_are_problems_without_traces(client, admin, monkeypatch):
    async def explode(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("services.api.communities.service.list_communities", explode)
    response = await client.get("/v1/communities", headers=admin["headers"])
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert "x-request-id" in response.headers


async def test_openapi_documents_every_operation(client):
    spec = (await client.get("/openapi.json")).json()
    operation_ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            assert operation.get("tags"), (method, path)
            assert operation.get("summary"), (method, path)
            assert "**Who may call:**" in operation.get("description", ""), (method, path)
            schema_ref = (operation.get("requestBody", {}).get("content", {})
                          .get("application/json", {}).get("schema", {}).get("$ref"))
            if schema_ref:
                schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
                assert schema.get("examples"), f"{method} {path} body has no example"
    assert len(operation_ids) == len(set(operation_ids))
    create = spec["paths"]["/v1/communities"]["post"]
    assert create["x-required-permissions"] == ["communities:write"]
    assert spec["paths"]["/healthz"]["get"]["x-required-permissions"] == []


async def _staff_emails() -> list[str]:
    async with session_scope() as session:
        return [u.email for u in (await session.exec(select(StaffUser))).all()]


async def test_first_admin_from_environment(client):
    settings = Settings(admin_email="Root@Example.org", admin_password="from-the-env-123")
    await staff_service.ensure_initial_admin(settings)
    await staff_service.ensure_initial_admin(settings)
    assert await _staff_emails() == ["root@example.org"]
    login = await client.post("/v1/auth/login", json={"email": "root@example.org",
                                                      "password": "from-the-env-123"})
    assert login.status_code == 200


async def test_first_admin_with_generated_password_is_printed_once(client, capsys):
    await staff_service.ensure_initial_admin(Settings(admin_email=None, admin_password=None))
    printed = capsys.readouterr().out
    assert "admin@localhost" in printed
    password = printed.split("admin@localhost / ")[1].split()[0]
    login = await client.post("/v1/auth/login", json={"email": "admin@localhost",
                                                      "password": password})
    assert login.status_code == 200
    await staff_service.ensure_initial_admin(Settings(admin_email=None, admin_password=None))
    assert capsys.readouterr().out == ""


async def test_no_admin_is_created_when_staff_exist(admin):
    await staff_service.ensure_initial_admin(Settings(admin_email="x@example.org",
                                                      admin_password="whatever-pass-1"))
    assert await _staff_emails() == [admin["email"]]
