"""Open data and the read API: every documented response validates against the OpenAPI
document (a hand-written contract test with jsonschema: each path and method, its examples,
its status codes), the open counts equal the count reports, and the confirmation state carries
the caller's actions for signed-in users and agency tokens."""

from datetime import datetime, timedelta
from itertools import product

import jsonschema
import pytest
from sqlalchemy import select
from test_risk import learner, make_round

import clock
from admin_views.reports import Scope, report_rows
from models import Confirmation, Institution, Lao, Level, OtherSchoolCount, db
from models.tokens import AgencyToken
from rules import acting_as, confirmation, progress, windows
from rules.permissions import may_confirm_now
from rules.scope import Unit, covers, subtree
from web.api import OPENAPI

YEAR = clock.academic_year()


def validate(path: str, method: str, response) -> None:  # noqa: ANN001
    """The response's status is documented and its body fits the documented schema."""
    documented = OPENAPI["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (path, response.status_code)
    spec = documented[str(response.status_code)]
    if "$ref" in spec:
        spec = OPENAPI["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
    mimetype = response.mimetype
    assert mimetype in spec["content"], (path, mimetype)
    schema = spec["content"][mimetype]["schema"]
    if mimetype == "application/json":
        jsonschema.Draft202012Validator(
            {**schema, "components": OPENAPI["components"]},
            format_checker=jsonschema.FormatChecker()).validate(response.get_json())

@pytest.fixture
def confirmed(tree):  # noqa: ANN001, ANN201
    """This year's round 1 with the school and centre of province 33 confirmed, the rest not."""
    round_ = make_round(YEAR)
    for grade, gender in product(("P1", "P2"), ("M", "F")):
        learner(tree.a.school, grade, YEAR, gender=gender)
    learner(tree.a.school, "P1", YEAR, gender="F")
    learner(tree.a.cdc, "A3", YEAR)
    learner(tree.b.school, "P1", YEAR)  # not confirmed: never published
    db.session.commit()
    with acting_as(None):
        confirmation.confirm_institution(db.session, round_, tree.a.school)
        confirmation.confirm_institution(db.session, round_, tree.a.cdc)
        db.session.commit()
    return round_

def test_every_documented_path_answers_to_its_schema(confirmed, tree, client, browser
                                                     ) -> None:  # noqa: ANN001
    r = confirmed.id
    anonymous = {
        ("/api/openapi.json", ""): 200, ("/api/v1/rounds", ""): 200,
        ("/api/v1/counts", f"round={r}"): 200,
        ("/api/v1/counts", f"round={r}&by=lao&province=33"): 200,
        ("/api/v1/counts", f"round={r}&by=institution&lao={tree.a.muni.id}"): 200,
        ("/api/v1/counts", f"round={r}&by=institution&lao=²"): 400,
        ("/api/v1/counts", f"round={r}&by=institution&lao=abc"): 400,
        ("/api/v1/counts", f"round={r}&by=institution&lao=99999999999"): 404,
        ("/api/v1/counts", "round=abc"): 400,
        ("/api/v1/counts", ""): 400,
        ("/api/v1/counts", f"round={r}&format=xml"): 400,
        ("/api/v1/counts", f"round={r}&by=lao"): 400,
        ("/api/v1/counts", f"round={r}&by=teacher"): 400,
        ("/api/v1/counts", "round=999999"): 404,
        ("/api/v1/counts", f"round={r}&format=csv"): 200,
        ("/api/v1/confirmations", f"round={r}"): 401,
    }
    for (path, query), status in anonymous.items():
        response = client.get(f"{path}?{query}")
        assert response.status_code == status, (path, query, response.get_data(as_text=True))
        validate(path, "get", response)
    lao, province = browser(tree.a.muni_user), browser(tree.a.province_user)
    for who, query, status in ((lao, f"round={r}&lao={tree.a.muni.id}", 200),
                               (lao, f"round={r}&province=33", 200),
                               (lao, f"round={r}&province=34", 404),
                               (province, f"round={r}&province=33", 200),
                               (province, f"round={r}", 200),
                               (province, f"round={r}&lao={tree.b.muni.id}", 404),
                               (province, f"round={r}&lao=abc", 400),
                               (province, "round=abc", 400),
                               (province, "", 400)):
        response = who.get(f"/api/v1/confirmations?{query}")
        assert response.status_code == status, query
        validate("/api/v1/confirmations", "get", response)
        if status == 400:
            assert "must be a whole number" in response.get_json()["detail"] or (
                "is required" in response.get_json()["detail"])
    assert set(OPENAPI["paths"]) == {"/api/openapi.json", "/api/v1/rounds", "/api/v1/counts",
                                     "/api/v1/confirmations"}

def test_open_counts_equal_the_count_report(confirmed, tree, client) -> None:  # noqa: ANN001
    response = client.get(f"/api/v1/counts?round={confirmed.id}&by=lao&province=33")
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]
    api: dict[tuple[str, str, str], int] = {}
    for row in response.get_json()["rows"]:
        api[(row["code"], row["grade"], row["gender"])] = row["count"]
    _, rows = report_rows(confirmed, Scope(Level.PROVINCE, province="33"))
    report = {(row.code, grade, gender): n for row in rows
              for (grade, gender), n in row.counts.items() if n}
    assert api == report
    assert api[(tree.a.muni.code, "P1", "F")] == 2  # planted: two girls in P1
    national = client.get(f"/api/v1/counts?round={confirmed.id}").get_json()["rows"]
    assert {row["code"] for row in national} == {"33"}  # province 34 confirmed nothing
    assert "national_id" not in response.get_data(as_text=True)
    csv = client.get(f"/api/v1/counts?round={confirmed.id}&by=lao&province=33&format=csv")
    assert csv.mimetype == "text/csv" and tree.a.muni.code in csv.get_data(as_text=True)

def test_confirmation_state_carries_the_callers_actions(confirmed, tree, client, browser
                                                        ) -> None:  # noqa: ANN001
    url = f"/api/v1/confirmations?round={confirmed.id}&lao={tree.a.muni.id}"
    lao = browser(tree.a.muni_user).get(url).get_json()["units"]
    (school,) = [u for u in lao if u["code"] == tree.a.school.code]
    assert school["state"] == "confirmed"
    assert school["actions"] == {"may_confirm": False, "may_cancel": True, "may_read_data": True}
    own = browser(tree.a.school_user).get(url).get_json()["units"]
    assert [u["code"] for u in own] == [tree.a.school.code]  # itself, none of its LAO's others
    province = browser(tree.a.province_user).get(
        f"/api/v1/confirmations?round={confirmed.id}&province=33").get_json()["units"]
    assert {u["actions"]["may_cancel"] for u in province} == {False}  # nothing confirmed yet

    issue = browser(tree.department)
    page = issue.get("/admin/agency_token/new/")
    assert page.status_code == 200
    response = issue.post("/admin/agency_token/new/", data={"agency": "สพฐ."},
                          follow_redirects=True)
    html = response.get_data(as_text=True)
    token = html.split("สพฐ.", 1)[1].split(":", 1)[1].split("<", 1)[0].strip()
    stored = db.session.query(AgencyToken).one()
    assert token and token not in stored.token_hash
    agency = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert agency.status_code == 200
    assert agency.get_json()["units"][0]["actions"]["may_cancel"] is False
    issue.post("/admin/agency_token/action/", data={"action": "revoke", "rowid": stored.id})
    refused = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401


def test_no_cancel_is_offered_under_a_confirmed_province(confirmed, tree, browser
                                                         ) -> None:  # noqa: ANN001
    """The API offers a cancel only where the progress page does: not under a live
    confirmation of the level above."""
    db.session.add(OtherSchoolCount(round_id=confirmed.id, other_school_id=tree.a.other.id,
                                    grade="K1", boys=0, girls=0))
    with acting_as(None):
        confirmation.confirm_lao(db.session, confirmed, tree.a.muni, "students")
        confirmation.confirm_lao(db.session, confirmed, tree.a.sao, "children")
        confirmation.confirm_lao(db.session, confirmed, tree.a.sao, "other")
        confirmation.confirm_province(db.session, confirmed, "33")
        db.session.commit()
    province = browser(tree.a.province_user)
    laos = province.get(f"/api/v1/confirmations?round={confirmed.id}&province=33")
    assert [u["state"] for u in laos.get_json()["units"]] == ["confirmed"] * 3
    assert {u["actions"]["may_cancel"] for u in laos.get_json()["units"]} == {False}
    school = browser(tree.a.muni_user).get(
        f"/api/v1/confirmations?round={confirmed.id}&lao={tree.a.muni.id}").get_json()["units"]
    assert [u["actions"]["may_cancel"] for u in school] == [False]  # the LAO confirmed it
    nation = browser(tree.department).get(f"/api/v1/confirmations?round={confirmed.id}")
    cancels = {u["code"]: u["actions"]["may_cancel"] for u in nation.get_json()["units"]}
    assert cancels == {"33": True, "34": False}
    validate("/api/v1/confirmations", "get", nation)


def test_times_carry_their_offset(confirmed, tree, browser) -> None:  # noqa: ANN001
    """confirmed_at is RFC 3339 in UTC, on SQLite (which forgets the offset) as on PostgreSQL."""
    stored = db.session.query(Confirmation).filter_by(institution_id=tree.a.school.id).one()
    units = browser(tree.a.muni_user).get(
        f"/api/v1/confirmations?round={confirmed.id}&lao={tree.a.muni.id}").get_json()["units"]
    (school,) = [u for u in units if u["code"] == tree.a.school.code]
    assert school["confirmed_at"].endswith("Z")
    sent = datetime.fromisoformat(school["confirmed_at"])
    assert sent == clock.as_utc(stored.confirmed_at) and sent.utcoffset() == timedelta(0)


def _listed(who, query: str) -> tuple[int, set[str]]:  # noqa: ANN001
    """The status of a confirmations list and the codes of the units it names."""
    response = who.get(f"/api/v1/confirmations?{query}")
    validate("/api/v1/confirmations", "get", response)
    return response.status_code, {u["code"] for u in response.get_json().get("units", [])}


def test_each_level_lists_what_its_scope_holds(confirmed, tree, browser) -> None:  # noqa: ANN001
    """Every list is the scope's own answer: a province's LAOs are those `subtree` gives the
    caller (an LAO finds itself, an institution none), an LAO's institutions likewise (an
    institution finds itself), the provinces those `covers`; 404 only where the province or LAO
    asked about holds none of the caller's units. Before, an LAO asking for its province's
    LAOs was refused, and an institution asking for its LAO's institutions too."""
    r = confirmed.id
    own = browser(tree.a.muni_user).get(f"/api/v1/confirmations?round={r}&province=33")
    assert [(u["code"], u["database"], u["actions"]["may_confirm"])  # its school confirmed
            for u in own.get_json()["units"]] == [(tree.a.muni.code, "students", True)]
    db.session.add(Institution(code="3033200009", name="โรงเรียนเทศบาล ๙", kind="school",
                               lao=tree.a.muni))  # an institution beside the school
    db.session.commit()
    users = [tree.department, *(getattr(unit, level) for unit in (tree.a, tree.b) for level in (
        "province_user", "muni_user", "sao_user", "school_user", "cdc_user"))]
    for user in users:
        who = browser(user)
        _status, provinces = _listed(who, f"round={r}")
        assert provinces == {p for p in ("33", "34") if covers(user, Unit(p))}, user.login
        for province in ("33", "34"):
            laos = set(db.session.scalars(select(Lao.code).where(
                subtree(Lao, user), Lao.province_code == province)))
            reached = user.province_code in (None, province)
            assert _listed(who, f"round={r}&province={province}") == (
                200 if reached else 404, laos), (user.login, province)
        for lao in (tree.a.muni, tree.a.sao, tree.b.muni, tree.b.sao):
            institutions = set(db.session.scalars(select(Institution.code).where(
                subtree(Institution, user), Institution.lao_id == lao.id)))
            reached = (user.province_code in (None, lao.province_code)
                       and user.lao_id in (None, lao.id))
            assert _listed(who, f"round={r}&lao={lao.id}") == (
                200 if reached else 404, institutions), (user.login, lao.code)


def _may_confirm(who, query: str) -> dict[str, bool]:  # noqa: ANN001
    units = who.get(f"/api/v1/confirmations?{query}").get_json()["units"]
    return {f"{u['code']} {u['database']}": u["actions"]["may_confirm"] for u in units}


def _button_offered(who, round_id: int) -> bool:  # noqa: ANN001
    """Whether the progress page links to the confirm preview (a disabled button does not)."""
    page = who.get(f"/admin/confirmation/?round={round_id}").get_data(as_text=True)
    return f"/admin/confirmation/confirm/{round_id}" in page


def test_may_confirm_is_what_the_progress_page_offers(confirmed, tree, browser, monkeypatch
                                                      ) -> None:  # noqa: ANN001
    """An LAO or province still waiting for a unit below is not offered a confirm: the API
    answers from the rule the confirm button uses."""
    r = confirmed.id
    province, department = browser(tree.a.province_user), browser(tree.department)
    # The LAOs of province 33 have not confirmed: the province may not confirm yet.
    assert _may_confirm(province, f"round={r}") == {"33 all": False}
    assert not _button_offered(province, r)
    # The department has no confirm button; before, every unconfirmed LAO said true, even the
    # one whose other-affiliation counts are still missing.
    assert set(_may_confirm(department, f"round={r}&province=33").values()) == {False}
    # Each LAO's units still waiting, per database, are the ones its confirm would name.
    for row in progress.lao_rows(db.session, confirmed, "33"):
        for database in row["applies"]:
            _total, missing = progress.lao_status(db.session, r, row["lao"].id, database)
            assert row["waiting"][database] == len(missing), (row["lao"].code, database)
    waiting = {row["lao"].id: row["waiting"] for row in progress.lao_rows(db.session, confirmed,
                                                                          "33")}
    assert waiting[tree.a.sao.id]["other"] == 1 and waiting[tree.a.muni.id]["students"] == 0
    assert not may_confirm_now(tree.a.muni_user, "lao", None, waiting[tree.a.sao.id]["other"],
                               True)
    assert may_confirm_now(tree.a.muni_user, "lao", None, 0, True)

    db.session.add(OtherSchoolCount(round_id=r, other_school_id=tree.a.other.id,
                                    grade="K1", boys=1, girls=0))
    with acting_as(None):
        confirmation.confirm_lao(db.session, confirmed, tree.a.muni, "students")
        confirmation.confirm_lao(db.session, confirmed, tree.a.sao, "children")
        confirmation.confirm_lao(db.session, confirmed, tree.a.sao, "other")
        db.session.commit()
    assert _may_confirm(province, f"round={r}") == {"33 all": True}
    assert _button_offered(province, r)
    # Once the round has closed, neither offers it: the confirm would be refused.
    monkeypatch.setattr(clock, "now", lambda: windows.closes_at(confirmed))
    assert _may_confirm(province, f"round={r}") == {"33 all": False}
    assert not _button_offered(province, r)
