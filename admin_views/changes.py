"""Changed since confirmation: the page the LAO reads before it re-confirms an institution
whose confirmation was cancelled. rules/changes.py finds the changes; this page shows them."""

from typing import Any

from flask import abort, request
from flask_admin import expose
from flask_login import current_user

from models import Institution, db
from models.people import GRADE_LABELS
from models.profiles import person_at
from rules import changes
from rules.permissions import may_see
from rules.progress import current_round
from rules.scope import Unit

from . import audit_words
from .base import PageView


class ChangesView(PageView):
    """Learners added, removed, moved and edited, counts before and after, who and when."""

    @expose("/")
    def index(self) -> Any:
        round_ = current_round(db.session, request.args.get("round")) or abort(404)
        institution = db.session.get(Institution, request.args.get("institution", type=int)
                                     or 0) or abort(404)
        if not may_see(current_user, Unit(institution.lao.province_code, institution.lao_id,
                                          institution.id)):
            abort(404)
        cancelled = changes.last_cancelled(db.session, round_.id, institution.id)
        found = changes.changes_since(db.session, cancelled) if cancelled else None
        people = {"by": person_at(cancelled.confirmed_by, cancelled.confirmed_at),
                  "canceller": person_at(cancelled.cancelled_by, cancelled.cancelled_at)
                  } if cancelled else {}
        return self.render("admin/changes/index.html", round_=round_, institution=institution,
                           found=found, grades=GRADE_LABELS, people=people,
                           changed=lambda entry: audit_words.lines(self.admin, entry,
                                                                   hidden={"national_id"}),
                           concerning=lambda entry: audit_words.concerning(self.admin, entry))
