"""GET /v1/exports/*.csv: streamed CSV exports. Each export is parsed back and compared with what
the JSON API returns for the same rows."""

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.api.exports import service as exports
from shared.ledger import EntryKind
from tests.api.advocacy import access_headers, award
from tests.api.test_activities import (
    activity,
    make_advocate,
    make_community,
    make_member,
    post_activities,
)
from tests.api.test_members import assert_problem, join
from tests.api.test_members import create as create_through_api

AT = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)


async def create(client, headers, **fields) -> dict:
    return await create_through_api(client, headers, **{"identities": [], **fields})


def parse(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    assert response.headers["content-disposition"].endswith('.csv"')
    return list(csv.DictReader(io.StringIO(response.text)))


def decode(text: str, like: Any) -> Any:
    """A CSV cell read back as the type its JSON counterpart has."""
    if like is None:
        return None if text == "" else text
    if isinstance(like, bool):
        return {"true": True, "false": False}[text]
    if isinstance(like, int):
        return int(text)
    if isinstance(like, dict):
        return json.loads(text)
    if isinstance(like, list):
        return text.split(";") if text else []
    return text


def assert_same(row: dict[str, str], item: dict[str, Any]) -> None:
    assert set(row) >= set(item), set(item) - set(row)
    assert {name: decode(row[name], value) for name, value in item.items()} == item


async def json_items(client, headers, path: str, **params) -> list[dict]:
    response = await client.get(path, params={"limit": 500, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_members_export_matches_the_api(client, admin):
    headers = admin["headers"]
    ada = await create(client, headers, name="Ada Lovelace", email="ada@example.org",
                       interests=["math", "engines"],
                       identities=[{"provider": "github", "external_id": "ada"},
                                   {"provider": "slack", "external_id": "U1"}])
    await create(client, headers, name="Chi Obi", email="chi@example.org", handle=None)
    rows = parse(await client.get("/v1/exports/members.csv", headers=headers))

    members = await json_items(client, headers, "/v1/members")
    assert [int(row["id"]) for row in rows] == sorted(member["id"] for member in members)
    for row, member in zip(rows, sorted(members, key=lambda m: m["id"]), strict=True):
        identities = [f"{i['provider']}:{i['external_id']}" for i in member["identities"]]
        assert decode(row["identities"], []) == identities
        assert_same(row, {name: value for name, value in member.items() if name != "identities"})
    assert rows[0]["interests"] == "math;engines" and rows[0]["id"] == str(ada["id"])


async def test_members_export_filters_by_community_and_status(client, admin):
    headers = admin["headers"]
    community = await make_community()
    inside = await create(client, headers, email="in@example.org")
    await create(client, headers, email="out@example.org")
    await join(client, headers, inside["id"], community)
    rows = parse(await client.get("/v1/exports/members.csv",
                                  params={"community_id": community}, headers=headers))
    assert [row["email"] for row in rows] == ["in@example.org"]
    rows = parse(await client.get("/v1/exports/members.csv", params={"status": "banned"},
                                  headers=headers))
    assert rows == []


async def test_erased_members_export_anonymised(client, admin):
    headers = admin["headers"]
    member = await create(client, headers, name="Grace Hopper", email="grace@example.org",
                          handle="amazing-grace", country="US", interests=["cobol"],
                          identities=[{"provider": "github", "external_id": "grace"}])
    erased = await client.post(f"/v1/members/{member['id']}/erase", headers=headers)
    assert erased.status_code == 200, erased.text
    [row] = parse(await client.get("/v1/exports/members.csv", headers=headers))
    assert row["name"] == f"Erased member #{member['id']}" and row["erased_at"]
    for personal in ("email", "handle", "country", "timezone", "interests", "identities",
                     "referred_by_code"):
        assert row[personal] == "", personal
    assert "grace" not in json.dumps(row).lower()


async def test_a_formula_in_a_cell_is_neutralised(client, admin):
    await create(client, admin["headers"], name="=HYPERLINK(\"http://evil\")",
                 email="evil@example.org")
    [row] = parse(await client.get("/v1/exports/members.csv", headers=admin["headers"]))
    assert row["name"] == "'=HYPERLINK(\"http://evil\")"


class BodyChunks:
    """Wraps the real app and records each piece of response body it sends."""

    def __init__(self, app):
        self.app, self.chunks = app, []

    async def __call__(self, scope, receive, send):
        async def recording(message):
            if message["type"] == "http.response.body" and message.get("body"):
                self.chunks.append(message["body"])
            await send(message)

        await self.app(scope, receive, recording)


async def test_an_export_streams_chunk_by_chunk(admin, monkeypatch):
    from services.api.main import app

    monkeypatch.setattr(exports, "CHUNK_ROWS", 10)
    ids = [await make_member(f"Member {n}") for n in range(25)]
    recorder = BodyChunks(app)
    transport = httpx.ASGITransport(app=recorder)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        response = await http.get("/v1/exports/members.csv", headers=admin["headers"])
    rows = parse(response)
    assert [int(row["id"]) for row in rows] == ids
    # The header, then one piece per chunk of 10 rows: the export never built the whole file.
    assert len(recorder.chunks) == 1 + 3
    assert [chunk.count(b"\r\n") for chunk in recorder.chunks] == [1, 10, 10, 5]


async def test_activities_export_matches_the_api_with_the_same_filters(client, admin):
    headers = admin["headers"]
    member_id = await make_member()
    here, elsewhere = await make_community(), await make_community()
    await post_activities(
        client, headers,
        activity(member_id, community_id=here, at=AT, properties={"title": "On-device ML"}),
        activity(member_id, community_id=here, at=datetime(2026, 11, 1, tzinfo=UTC)),
        activity(member_id, community_id=here, at=datetime(2026, 12, 1, tzinfo=UTC)),
        activity(member_id, community_id=elsewhere, at=AT),
    )
    params = {"community_id": here, "start": "2026-11-01T00:00:00Z",
              "end": "2026-12-01T00:00:00+00:00"}
    rows = parse(await client.get("/v1/exports/activities.csv", params=params, headers=headers))
    items = sorted(await json_items(client, headers, "/v1/activities", **params),
                   key=lambda item: item["id"])
    assert len(rows) == len(items) == 2
    for row, item in zip(rows, items, strict=True):
        assert_same(row, item)
    assert json.loads(rows[0]["properties"]) == {"title": "On-device ML"}


async def test_ledger_export_matches_each_advocates_ledger(client, admin):
    headers = admin["headers"]
    community = await make_community()
    ada, chi = await make_advocate("Ada"), await make_advocate("Chi")
    await award(ada["id"], 100, community_id=community)
    await award(ada["id"], -30, kind=EntryKind.adjustment, staff_user_id=admin["id"])
    await award(chi["id"], 50)
    rows = parse(await client.get("/v1/exports/ledger.csv", headers=headers))
    assert len(rows) == 3
    for advocate in (ada, chi):
        entries = await json_items(client, headers, f"/v1/advocates/{advocate['id']}/ledger")
        exported = [row for row in rows if row["advocate_id"] == str(advocate["id"])]
        assert len(exported) == len(entries)
        for row, entry in zip(exported, sorted(entries, key=lambda e: e["id"]), strict=True):
            flat = {name: value for name, value in entry.items() if not isinstance(value, dict)
                    and name not in ("activity", "incentive", "redemption", "staff_user")}
            for cause in ("activity", "incentive", "redemption", "staff_user"):
                for field, value in (entry[cause] or {}).items():
                    flat[f"{cause}.{field}"] = value
            assert_same(row, flat)
    only_ada = parse(await client.get("/v1/exports/ledger.csv",
                                      params={"advocate_id": ada["id"]}, headers=headers))
    assert [int(row["points"]) for row in only_ada] == [100, -30]
    assert only_ada[0]["activity.kind"] == "talk_given" and only_ada[0]["redemption.id"] == ""
    assert only_ada[1]["staff_user.id"] == str(admin["id"])


async def test_ledger_export_of_an_unknown_advocate_is_404(client, admin):
    response = await client.get("/v1/exports/ledger.csv", params={"advocate_id": 999},
                                headers=admin["headers"])
    assert_problem(response, 404)


@pytest.mark.parametrize(("path", "params"), [
    ("/v1/exports/activities.csv", {"start": "2026-11-02T00:00:00Z",
                                    "end": "2026-11-01T00:00:00Z"}),
    ("/v1/exports/activities.csv", {"start": "2026-11-01T00:00:00"}),  # no offset
    ("/v1/exports/activities.csv", {"community_id": "two"}),
    ("/v1/exports/ledger.csv", {"end": "yesterday"}),
    ("/v1/exports/members.csv", {"status": "sleeping"}),
    ("/v1/exports/members.csv", {"comunity_id": "1"}),  # misspelt: not silently everything
])
async def test_bad_parameters_are_422(client, admin, path, params):
    assert_problem(await client.get(path, params=params, headers=admin["headers"]), 422)


EXPORTS = [("/v1/exports/members.csv", "members:read"),
           ("/v1/exports/activities.csv", "activities:read"),
           ("/v1/exports/ledger.csv", "advocates:read")]


@pytest.mark.parametrize(("path", "scope"), EXPORTS)
async def test_who_may_export(client, admin, make_staff, make_api_key, path, scope):
    assert_problem(await client.get(path), 401)
    viewer = await make_staff("viewer")
    assert parse(await client.get(path, headers=viewer["headers"])) == []
    assert_problem(await client.get(path, headers=await make_api_key("reports:read")), 403)
    assert parse(await client.get(path, headers=await make_api_key(scope))) == []
    advocate = await make_advocate()
    advocate_headers = await access_headers(client, admin["headers"], advocate["id"])
    assert_problem(await client.get(path, headers=advocate_headers), 403)


# Reports -------------------------------------------------------------------------------------

# The lists of records in each report: one CSV row per record, its fields under the list's name.
ITEM_LISTS = {"engagement": ["top_members", "top_members_by_activity"],
              "impact-relevance": ["items"], "health": [], "growth": ["buckets"],
              "influence": ["members"]}
REPORT_PARAMS = {"start": "2026-11-01", "end": "2026-11-30"}


def nest(flat: dict[str, str]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, text in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = text
    return nested


def typed(value: Any, like: Any) -> Any:
    """CSV text (nested by `nest`) read back with the types of the JSON value `like`."""
    if isinstance(like, dict) and isinstance(value, dict):
        assert set(value) == set(like), set(value) ^ set(like)
        return {name: typed(value[name], like[name]) for name in like}
    if isinstance(like, float):
        return float(value)
    return decode(value, like)


def assert_report_round_trips(rows: list[dict[str, str]], report: dict, lists: list[str]):
    head = {name: value for name, value in report.items() if name not in lists}
    prefixes = tuple(f"{name}." for name in lists)
    for row in rows:
        own = nest({key: text for key, text in row.items() if not key.startswith(prefixes)})
        assert typed(own, head) == head
    for name in lists:
        records = [nest({key.removeprefix(f"{name}."): text for key, text in row.items()
                         if key.startswith(f"{name}.")}) for row in rows]
        records = [record for record in records if any(record.values())]
        assert len(records) == len(report[name]), name
        for record, item in zip(records, report[name], strict=True):
            assert typed(record, item) == item
    expected_rows = sum(len(report[name]) for name in lists) or 1
    assert len(rows) == expected_rows


@pytest.fixture
async def community_with_activity(client, admin) -> int:
    headers = admin["headers"]
    community = await make_community()
    for n, kinds in enumerate((["talk_given", "content_published"], ["post_created"],
                               ["question_answered", "post_created", "event_attended"])):
        member = await create(client, headers, name=f"Member {n}", email=f"m{n}@example.org")
        await join(client, headers, member["id"], community,
                   joined_at="2026-11-02T10:00:00+00:00",
                   role="organiser" if n < 2 else "member")
        await post_activities(client, headers, *[
            activity(member["id"], community_id=community, kind=kind,
                     at=datetime(2026, 11, 3 + day, 12, tzinfo=UTC))
            for day, kind in enumerate(kinds)])
    return community


@pytest.mark.parametrize(("name", "params"), [
    ("engagement", {"with_community": True}),
    ("engagement", {}),
    ("impact-relevance", {"weight_talks": 3, "focus_kinds": ["talk_given"]}),
    ("health", {"with_community": True, "as_of": "2026-11-30"}),
    ("growth", {"with_community": True, "interval": "week"}),
    ("influence", {"with_community": True, "half_life_days": 7}),
])
async def test_each_report_exports_as_the_api_returns_it(client, admin, community_with_activity,
                                                        name, params):
    params = dict(params)
    if params.pop("with_community", False):
        params["community_id"] = community_with_activity
    if name != "health":
        params |= REPORT_PARAMS
    report = await client.get(f"/v1/reports/{name}", params=params, headers=admin["headers"])
    assert report.status_code == 200, report.text
    rows = parse(await client.get(f"/v1/exports/reports/{name}.csv", params=params,
                                  headers=admin["headers"]))
    assert_report_round_trips(rows, report.json(), ITEM_LISTS[name])


async def test_report_exports_refuse_what_the_report_refuses(client, admin):
    headers = admin["headers"]
    missing_end = await client.get("/v1/exports/reports/engagement.csv",
                                   params={"start": "2026-11-01"}, headers=headers)
    assert_problem(missing_end, 422)
    reversed_period = await client.get("/v1/exports/reports/growth.csv",
                                       params={"start": "2026-11-02", "end": "2026-11-01"},
                                       headers=headers)
    assert_problem(reversed_period, 422)
    assert_problem(await client.get("/v1/exports/reports/health.csv",
                                    params={"community_id": 999}, headers=headers), 404)
    assert_problem(await client.get("/v1/exports/reports/popularity.csv", headers=headers), 404)


async def test_who_may_export_reports(client, admin, make_staff, make_api_key):
    path, params = "/v1/exports/reports/engagement.csv", REPORT_PARAMS
    assert_problem(await client.get(path, params=params), 401)
    viewer = await make_staff("viewer")
    assert len(parse(await client.get(path, params=params, headers=viewer["headers"]))) == 1
    assert_problem(await client.get(path, params=params,
                                    headers=await make_api_key("members:read")), 403)
    assert parse(await client.get(path, params=params,
                                  headers=await make_api_key("reports:read")))
    advocate = await make_advocate()
    advocate_headers = await access_headers(client, admin["headers"], advocate["id"])
    assert_problem(await client.get(path, params=params, headers=advocate_headers), 403)
