"""Open data and the read API: counts by unit, grade and gender from confirmed snapshots only
(no personal data) for anyone, cacheable and rate-limited; each unit's confirmation state and
the actions the caller may take (as DHIS2's data-approval API returns them) for signed-in users
and for agency tokens the department issues. The OpenAPI document describes every response.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from flask_login import current_user
from sqlalchemy import select, update

import clock
from models import Confirmation, Institution, Lao, Level, Province, Round, db
from models.rounds import ConfirmLevel, Database
from models.tokens import AgencyToken
from rules import progress, windows
from rules.permissions import may_cancel_now, may_confirm_now, may_look_under, may_see
from rules.scope import Unit
from spreadsheets.writers import csv_chunks
from web.admission import over_limit
from web.fields import whole_number

bp = Blueprint("api", __name__, url_prefix="/api")
OPENAPI = json.loads((Path(__file__).with_name("openapi.json")).read_text(encoding="utf-8"))
#: Requests per address for the open endpoints; a shared cache in front absorbs the rest.
OPEN_LIMIT = (300, timedelta(minutes=1))
CACHE_SECONDS = 300
#: Ids are 32-bit integers in the database; a larger number names no row.
ID_LIMIT = 2**31


def problem(status: int, detail: str) -> Response:
    """An error as JSON (RFC 9457 fields), never an HTML page."""
    response = jsonify({"status": status, "detail": detail})
    response.status_code = status
    return response


@bp.errorhandler(404)
def not_found(exc: Exception) -> Response:
    return problem(404, "Not found.")


@bp.errorhandler(400)
def bad_request(exc: Exception) -> Response:
    return problem(400, getattr(exc, "description", "Bad request."))


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.add_etag()
    return response.make_conditional(request)


def _throttled() -> Response | None:
    if over_limit("api", OPEN_LIMIT):
        response = problem(429, "Too many requests from this address; try again in a minute.")
        response.headers["Retry-After"] = "60"
        return response
    return None


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API."""
    return _cached(jsonify(OPENAPI))


def _id(name: str, *, required: bool = False) -> int | None:
    """A query parameter naming a row by id: 400 for anything but a whole number, so a typo is
    never taken for a parameter left out."""
    text = request.args.get(name, "")
    if not text:
        if required:
            abort(400, f"{name} is required: a whole number.")
        return None
    value = whole_number(text)
    if value is None:
        abort(400, f"{name} must be a whole number.")
    return value


def _row(model: type, key: Any) -> Any:
    """The row `key` names, or a 404 answer."""
    in_range = key is not None and (not isinstance(key, int) or key < ID_LIMIT)
    found = db.session.get(model, key) if in_range else None
    if found is None:
        abort(404)
    return found


def _choice(name: str, choices: tuple[str, ...]) -> str:
    """A query parameter with a closed set of values, the first by default; 400 otherwise."""
    value = request.args.get(name, choices[0])
    if value not in choices:
        abort(400, f"{name} must be {', '.join(choices[:-1])} or {choices[-1]}.")
    return value


def timestamp(moment: datetime) -> str:
    """A moment as RFC 3339 in UTC ("Z"), the one form every time in the API takes: SQLite
    hands stored times back without their offset, PostgreSQL with it."""
    return clock.as_utc(moment).isoformat().replace("+00:00", "Z")


@bp.get("/v1/rounds")
def rounds() -> Response:
    """The collection rounds, newest first."""
    refused = _throttled()
    if refused:
        return refused
    found = db.session.scalars(select(Round).order_by(Round.academic_year.desc(),
                                                      Round.number.desc()))
    return _cached(jsonify([{"id": r.id, "academic_year": r.academic_year, "number": r.number,
                             "count_date": r.institution_deadline.isoformat()}
                            for r in found]))


def count_rows(round_: Round, by: str, parent: str | int | None) -> list[dict[str, Any]]:
    """Confirmed counts per unit, grade and gender: the count report's own sums."""
    from admin_views.reports import Scope, counts_by, province_counts

    if by == "province":
        sums = province_counts(round_.id)
        names = {p.code: (p.code, p.name_th) for p in db.session.scalars(
            select(Province).where(Province.code.in_(list(sums))))}
    elif by == "lao":
        province = _row(Province, parent)
        sums = counts_by(round_.id, Scope(Level.PROVINCE, province=province.code),
                         Confirmation.lao_id)
        names = {lao.id: (lao.code, lao.name) for lao in db.session.scalars(
            select(Lao).where(Lao.id.in_(list(sums))))}
    else:
        lao = _row(Lao, parent)
        sums = counts_by(round_.id, Scope(Level.LAO, lao.code, lao.name, lao.province_code, lao),
                         Confirmation.institution_id)
        names = {i.id: (i.code, i.name) for i in db.session.scalars(
            select(Institution).where(Institution.id.in_([k for k in sums if k])))}
        names[None] = (lao.code, "other-affiliation schools")
    rows = []
    for key, counts in sums.items():
        code, name = names.get(key, ("", ""))
        rows += [{"code": code, "name": name, "grade": grade, "gender": gender, "count": n}
                 for (grade, gender), n in sorted(counts.items())]
    return sorted(rows, key=lambda r: (r["code"], r["grade"], r["gender"]))


@bp.get("/v1/counts")
def counts() -> Response:
    """Open data: confirmed head counts by unit, grade and gender, as JSON or CSV."""
    refused = _throttled()
    if refused:
        return refused
    round_ = _row(Round, _id("round", required=True))
    by = _choice("by", ("province", "lao", "institution"))
    output = _choice("format", ("json", "csv"))
    parent = {"province": None, "lao": request.args.get("province"),
              "institution": _id("lao")}[by]
    if by != "province" and not parent:
        return problem(400, "by=lao needs province=CODE; by=institution needs lao=ID.")
    rows = count_rows(round_, by, parent)
    if output == "csv":
        columns = ("code", "name", "grade", "gender", "count")
        body = b"".join(csv_chunks(columns, ([r[c] for c in columns] for r in rows)))
        return _cached(Response(body, mimetype="text/csv"))
    return _cached(jsonify({"round": round_.id, "academic_year": round_.academic_year,
                            "by": by, "rows": rows}))


# --- signed-in users and agency tokens -------------------------------------------------------

def token_hash(token: str) -> str:
    """Tokens are kept only as their SHA-256; a token is a random secret, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def _caller() -> Any:
    """The signed-in user, or the agency whose live token is in the Authorization header."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = db.session.scalars(select(AgencyToken).where(
            AgencyToken.token_hash == token_hash(header.removeprefix("Bearer ").strip()),
            AgencyToken.revoked_at.is_(None))).first()
        if token is not None:  # a plain UPDATE: using a token is not a change to audit
            db.session.execute(update(AgencyToken.__table__).where(
                AgencyToken.id == token.id).values(last_used_at=clock.now()))
            db.session.commit()
        return token
    return current_user if current_user.is_authenticated else None


@dataclass(frozen=True)
class Unconfirmed:
    """What stands between a unit and its confirmation: units below still waiting, the round."""

    waiting: int
    is_open: bool


def _actions(user: Any, level: str, confirmation: Confirmation | None,
             above: Confirmation | None, ready: Unconfirmed) -> dict[str, bool]:
    """What the caller may do with the unit's confirmation, as DHIS2's approval API says it:
    confirm its own unit while unconfirmed and nothing below holds it back, cancel a unit below
    it while confirmed and not yet frozen by the level above (`above`), exactly as the progress
    page offers it. An agency only reads."""
    if user is None:
        return {"may_confirm": False, "may_cancel": False, "may_read_data": True}
    return {"may_confirm": may_confirm_now(user, level, confirmation, ready.waiting,
                                           ready.is_open),
            "may_cancel": confirmation is not None and may_cancel_now(user, confirmation, above),
            "may_read_data": True}


def _state(level: str, code: str, name: str, database: str,
           confirmation: Confirmation | None, above: Confirmation | None, user: Any,
           ready: Unconfirmed) -> dict[str, Any]:
    return {"level": level, "code": code, "name": name, "database": database,
            "state": "confirmed" if confirmation else "not_confirmed",
            "confirmed_at": timestamp(confirmation.confirmed_at) if confirmation else None,
            "actions": _actions(user, level, confirmation, above, ready)}


def _institutions(round_: Round, lao: Lao, user: Any) -> list[dict[str, Any]]:
    """An LAO's institutions in the caller's subtree (an institution finds only itself); each
    is frozen by the LAO's live confirmation of its database."""
    above = {d: progress.live_confirmation(db.session, round_.id, ConfirmLevel.LAO, d,
                                           lao_id=lao.id)
             for d in progress.KIND_OF_DATABASE}
    is_open = windows.is_open(round_)
    units = []
    for row in progress.institution_rows(db.session, round_, lao.id):
        i = row["institution"]
        if not may_see(user, Unit(lao.province_code, lao.id, i.id)):
            continue
        database = progress.DATABASE_OF_KIND[i.kind]
        units.append(_state(ConfirmLevel.INSTITUTION, i.code, i.name, str(database),
                            row["confirmation"], above[database], user, Unconfirmed(0, is_open)))
    return units


def _laos(round_: Round, province: str, user: Any) -> list[dict[str, Any]]:
    """A province's LAOs in the caller's subtree (an LAO finds only itself), one unit per
    database; the province's confirmation freezes them all."""
    above = progress.live_confirmation(db.session, round_.id, ConfirmLevel.PROVINCE,
                                       Database.ALL, province_code=province)
    is_open = windows.is_open(round_)
    units = []
    for row in progress.lao_rows(db.session, round_, province):
        lao = row["lao"]
        if not may_see(user, Unit(province, lao.id)):
            continue
        for database in row["applies"]:
            units.append(_state(ConfirmLevel.LAO, lao.code, lao.name, str(database),
                                row["confirmed"].get(database), above, user,
                                Unconfirmed(row["waiting"].get(database, 0), is_open)))
    return units


@bp.get("/v1/confirmations")
def confirmations() -> Response:
    """Per unit in the caller's subtree: its confirmation state in the round and what the
    caller may do with it; 404 for a province or LAO that holds none of the caller's units."""
    caller = _caller()
    if caller is None:
        response = problem(401, "Sign in, or send an agency token as 'Authorization: Bearer'.")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    user = None if isinstance(caller, AgencyToken) else caller
    round_ = _row(Round, _id("round", required=True))
    lao_id = _id("lao")
    province = request.args.get("province")
    if lao_id is not None:
        lao = _row(Lao, lao_id)
        if not may_look_under(user, Unit(lao.province_code, lao.id)):
            abort(404)
        units = _institutions(round_, lao, user)
    elif province:
        if not may_look_under(user, Unit(province)):
            abort(404)
        units = _laos(round_, province, user)
    else:
        is_open = windows.is_open(round_)
        units = [_state(ConfirmLevel.PROVINCE, row["province"].code, row["province"].name_th,
                        "all", row["confirmation"], None, user,
                        Unconfirmed(row["laos"] - row["done"], is_open))
                 for row in progress.province_rows(db.session, round_)
                 if may_see(user, Unit(row["province"].code))]
    response = jsonify({"round": round_.id, "units": units})
    response.headers["Cache-Control"] = "private, no-store"
    return response
