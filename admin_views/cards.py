"""Credential cards (SPEC §6): one-time passwords for the units below, printed with a QR code.

The department issues the provinces' cards, a province those of its LAOs and institutions. The
plain password exists only in the response that prints the cards; the database keeps its hash.
"""

import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import segno
from flask import abort, make_response, render_template, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

import clock
import jobs
from models import Institution, Lao, Level, User, db
from models.accounts import LEVEL_LABELS, password_hasher
from models.jobs import Job
from rules.accounts import one_time_password
from rules.audit import record
from rules.permissions import issues_cards_for
from rules.scope import subtree
from web.params import bounded_int

from .background import queued, screen_request
from .base import PageView

#: The group of every account a province issues cards for, prepared as a job.
ALL_GROUP = "all"
#: Cards prepared between two progress reports of the cards job.
CARDS_BATCH = 25
#: Accounts listed to reissue one card; a province with more finds the others by searching.
LISTED = 500


def qr_payload(login: str, password: str) -> str:
    """What the QR code holds: the login and the password, a line each."""
    return f"LEC\nlogin:{login}\npassword:{password}"


def parse_payload(text: str) -> dict[str, str]:
    lines = dict(line.split(":", 1) for line in text.splitlines()[1:] if ":" in line)
    return {"login": lines.get("login", ""), "password": lines.get("password", "")}


def card_png(login: str, password: str, scale: int = 8) -> bytes:
    """The card's QR code as a PNG, e.g. to send to a printer that takes images."""
    buffer = io.BytesIO()
    segno.make(qr_payload(login, password), error="m").save(buffer, kind="png", scale=scale,
                                                            border=4)
    return buffer.getvalue()


def card_svg(login: str, password: str) -> Markup:
    return Markup(segno.make(qr_payload(login, password), error="m").svg_inline(
        scale=4, border=2, omitsize=False))


@dataclass(frozen=True)
class Card:
    login: str
    password: str
    level: str
    unit: str
    qr: Markup


def below(actor: Any) -> Any:
    """The accounts one level down from `actor`, inside the actor's subtree."""
    return select(User).where(subtree(User, actor), User.level.in_(issues_cards_for(actor)))


def issuable(actor: Any) -> Any:
    """The accounts `actor` may issue cards for: the active ones below, since a deactivated
    account's card would print a password that cannot sign in."""
    return below(actor).where(User.active.is_(True))


def issue(actor: Any, users: Sequence[User], done: Callable[[int], None] | None = None
          ) -> list[Card]:
    """New one-time passwords: old sessions end and the holder must replace it at first login."""
    passwords = [one_time_password() for _ in users]
    hashes, cards = _prepare(users, passwords, done)
    # Written only now that the slow part is over, in one short transaction: sign-ins and
    # other writers never wait on the hashing (SQLite lets one writer in at a time).
    with db.session.no_autoflush:
        for user, hashed in zip(users, hashes, strict=True):
            user.password_hash = hashed
            user.must_change_password = True
            user.session_version += 1
            record("credential_issue", user.login, account_level=user.level)
    db.session.commit()
    return cards


def _prepare(users: Sequence[User], passwords: Sequence[str],
             done: Callable[[int], None] | None) -> tuple[list[str], list[Card]]:
    """The hashes and the cards, telling `done` every CARDS_BATCH cards (a job's progress):
    Argon2 costs tens of milliseconds per account on purpose, and a QR code about ten more."""
    hashes, cards = [], []
    with ThreadPoolExecutor(max_workers=4) as pool:  # Argon2 frees the GIL: hash ahead
        hashed_all = pool.map(password_hasher.hash, passwords)
        for n, (user, password, hashed) in enumerate(zip(users, passwords, hashed_all,
                                                         strict=True), start=1):
            hashes.append(hashed)
            cards.append(Card(user.login, password, str(LEVEL_LABELS[Level(user.level)]),
                              user.unit_label, card_svg(user.login, password)))
            if done is not None and n % CARDS_BATCH == 0:
                done(n)
    return hashes, cards


class CardsView(PageView):
    """Pick a group (a province's accounts or one LAO and its institutions) and print its cards."""


    def _groups(self) -> list[tuple[str, str, int]]:
        """(key, label, number of accounts) of each group the user may print."""
        accounts = issuable(current_user).subquery()
        everyone = db.session.scalar(select(func.count()).select_from(accounts)) or 0
        if Level.PROVINCE in issues_cards_for(current_user):  # the department: one group
            return [("province", _("Province accounts"), everyone)]
        rows = db.session.execute(
            select(Lao.id, Lao.code, Lao.name, func.count(accounts.c.id))
            .join(accounts, accounts.c.lao_id == Lao.id)
            .group_by(Lao.id, Lao.code, Lao.name).order_by(Lao.code))
        return [(ALL_GROUP, _("Every account of the province (prepared in the background)"),
                 everyone)] + [(f"lao:{lao_id}", f"{code} {name}", n)
                               for lao_id, code, name, n in rows]

    def _members(self, group: str) -> list[User]:
        query = issuable(current_user).options(joinedload(User.lao), joinedload(User.institution))
        if group.startswith("lao:"):
            try:
                query = query.where(User.lao_id == bounded_int(group[4:]))
            except ValueError:
                abort(404)
        elif group not in ("province", ALL_GROUP):
            abort(404)
        return list(db.session.scalars(query.order_by(User.level, User.login)).unique())

    @expose("/")
    def index(self) -> str:
        """The groups, and the accounts to reissue one card for: the first LISTED, or those
        whose code or unit name holds what the user searched for."""
        wanted = request.args.get("q", "").strip()[:100]
        query = issuable(current_user)
        if wanted:
            query = query.where(or_(
                User.login.contains(wanted, autoescape=True),
                User.lao_id.in_(select(Lao.id).where(Lao.name.contains(wanted, autoescape=True))),
                User.institution_id.in_(select(Institution.id).where(
                    Institution.name.contains(wanted, autoescape=True)))))
        accounts = db.session.scalars(query.order_by(User.login).limit(LISTED + 1)).all()
        inactive = db.session.scalar(select(func.count()).select_from(
            below(current_user).where(User.active.is_(False)).subquery()))
        return self.render("cards/index.html", groups=self._groups(), accounts=accounts[:LISTED],
                           more=len(accounts) > LISTED, listed=LISTED, wanted=wanted,
                           inactive=inactive)

    @expose("/preview")
    def preview(self) -> str:
        """The second look: whose passwords the issue will reset, then one more button."""
        ids = request.args.getlist("user_id", type=int)
        group = request.args.get("group", "")
        if ids:
            users = list(db.session.scalars(issuable(current_user).where(User.id.in_(ids))
                                            .order_by(User.login)))
        else:
            users = self._members(group)
        if not users:
            abort(404)
        return self.render("cards/preview.html", users=users, group=group if not ids else "",
                           ids=[u.id for u in users] if ids else [])

    @expose("/issue", methods=("POST",))
    def issue_view(self) -> Response:
        """Issue new passwords for a whole group or chosen accounts and show their cards once."""
        ids = request.form.getlist("user_id", type=int)  # drops what is not an id
        if ids:
            users = list(db.session.scalars(issuable(current_user).where(User.id.in_(ids))))
            if len(users) != len(set(ids)):
                abort(403)
        elif request.form.get("group") == ALL_GROUP:
            return queued(jobs.submit("cards", current_user, title=jobs.Title("Credential cards"),
                                      group=ALL_GROUP,
                                      login_url=url_for("auth.login", _external=True)))
        else:
            users = self._members(request.form.get("group", ""))
        if not users:
            abort(404)
        cards = issue(current_user, users)
        response = make_response(self.render("cards/sheet.html", cards=cards,
                                             login_url=url_for("auth.login", _external=True)))
        response.headers["Cache-Control"] = "no-store"
        return response


@jobs.task("cards", private=True)
def cards_job(job: Job, group: str, login_url: str) -> str:
    """Issue a whole province's cards; the sheet is its owner's alone, downloaded once."""
    with screen_request("cards", [], job.owner) as view:
        users = view._members(group)
        jobs.report_progress(job, 0, len(users))
        cards = issue(job.owner, users, lambda n: jobs.report_progress(job, n, len(users)))
        sheet = render_template("cards/sheet.html", cards=cards, login_url=login_url)
    name = f"cards_{clock.be_stamp()}.html"
    jobs.result_file(job, name).write_text(sheet, encoding="utf-8")
    jobs.report_progress(job, len(users), len(users))
    return name
