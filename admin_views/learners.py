"""Students and young children: their lists (enrolment by ID check, ghost removal and rollover
are the mixins of enrol.py, removal.py and rollover.py), and the learner's identity."""

from collections.abc import Callable
from typing import Any

from flask_admin.contrib.sqla.validators import Unique
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from models import Enrolment, Institution, Learner, db
from models.people import (
    GENDER_LABELS,
    GRADE_LABELS,
    GRADES_BY_KIND,
    REMOVAL_REASON_LABELS,
    STATUS_LABELS,
    TITLES,
    EnrolmentStatus,
)
from rules.audit import record
from rules.identity import (
    CONTACT_FIELDS,
    ID_TAKEN,
    mask_national_id,
    normalise_national_id,
    owning_enrolment,
)
from rules.permissions import may_reveal_id, may_see_contacts
from rules.scope import holding_enrolments, spans_many_laos, whole_country
from spreadsheets import learner_export

from .audit import id_with_reveal, ids_with_reveal
from .base import ScopedModelView, contact, labelled
from .enrol import GRADE_HELP, ID_HELP, EnrolByIdMixin
from .list_rows import PageFormatter
from .removal import RemovalMixin
from .rollover import RolloverMixin
from .search import (
    LEARNERS_BY_SUBSET,
    SORT_BY_SUBSET,
    counted_from_learners,
    enrolment_condition,
    found_by_keys,
    learner_condition,
)


def _ids_on_page(view: Any, name: str) -> Callable[[Enrolment], Markup]:
    """Only the learner's own institution needs the whole ID in a list; above it, one click
    reveals (and logs) one ID."""
    shown = ids_with_reveal(Learner)
    return lambda row: shown(row.learner_id, row.learner.national_id)


_masked = PageFormatter(_ids_on_page)


def _shown_id(national_id: str | None) -> str:
    """The ID as this user may read it in a heading: whole for the institution, else masked."""
    return mask_national_id(national_id, reveal=may_reveal_id(current_user))


def _log_opening(obj: Any, learner: Learner, institution_id: int | None) -> None:
    """A learner's record shown whole on a page is a look-up of a child's data: one audit row
    naming the learner (ID masked) and the institution holding them, whose LAO and province
    read it in their log. Lists show IDs masked and are not logged row by row."""
    masked = mask_national_id(learner.national_id)
    record("learner_opened", f"{learner.full_name} ({masked})" if masked else learner.full_name,
           concerning=obj, subject_institution_id=institution_id, institution_id=institution_id)
    db.session.commit()


class EnrolmentView(EnrolByIdMixin, RemovalMixin, RolloverMixin, ScopedModelView):
    """Enrolments of one institution kind; students and young children are separate views."""

    kind = "school"
    can_delete = False  # ghosts are removed with a reason, never deleted
    column_list = ("learner.national_id", "learner", "learner.gender", "grade", "classroom",
                   "academic_year", "institution", "status")
    column_labels = {
        "learner.national_id": _l("National ID"), "learner": _l("Name"),
        "learner.gender": _l("Gender"), "grade": _l("Grade"), "classroom": _l("Classroom"),
        "academic_year": _l("Academic year"), "institution": _l("Institution"),
        "institution.code": _l("Institution code"), "status": _l("Status"),
        "enrolled_on": _l("Enrolment date"), "removal_reason": _l("Reason for removal"),
        "removal_note": _l("Note"), "learner.last_name": _l("Last name"),
        "learner.first_name": _l("First name"), "status_changed_at": _l("Status changed on"),
    }
    column_formatters = {
        "learner.national_id": _masked,
        "learner.gender": labelled(GENDER_LABELS),
        "grade": labelled(GRADE_LABELS), "status": labelled(STATUS_LABELS),
        "removal_reason": labelled(REMOVAL_REASON_LABELS),
    }
    column_formatters_detail = column_formatters
    column_filters = ("academic_year", "grade", "status", "classroom", "institution.code")
    column_searchable_list = ("learner.national_id", "learner.first_name", "learner.last_name")
    column_sortable_list = ("grade", "classroom", "academic_year", "status")
    # The order of ix_enrolment_list_order; the base view ends it with the id.
    column_default_sort = [("academic_year", True), ("institution_id", False), ("grade", False),
                           ("classroom", False)]
    form_columns = ("grade", "classroom", "enrolled_on", "status")
    form_args = {"grade": {"description": GRADE_HELP}}
    editable_columns = ("grade", "classroom")
    list_template = "admin/learners/list.html"

    def search_condition(self, term: str) -> Any:
        return enrolment_condition(term, wide=spans_many_laos(current_user))

    def count_statement(self, keys: Any, most: int, search: Any, filters: Any) -> Any:
        """Across the country, the rows of a name search too common to pass by key are counted
        from the learners found (search.py); a subtree's own, or a filter's, lead otherwise."""
        if search and not filters and whole_country(current_user):
            counted = counted_from_learners(search, self.get_query(), most)
            if counted is not None:
                return counted
        return super().count_statement(keys, most, search, filters)

    def _apply_sorting(self, query: Any, joins: dict, sort_column: Any, sort_desc: bool
                       ) -> tuple[Any, dict]:
        """After a search by keys, and below the department, the rows are sorted, not met on a
        walk of the national order index (search.py)."""
        if found_by_keys() or not whole_country(current_user):
            query = query.order_by(SORT_BY_SUBSET)
        return super()._apply_sorting(query, joins, sort_column, sort_desc)

    def record_subject(self, obj: Enrolment) -> str:
        return _("%(name)s (%(id)s), %(grade)s in academic year %(year)d at %(institution)s",
                 name=obj.learner.full_name, id=_shown_id(obj.learner.national_id),
                 grade=GRADE_LABELS.get(obj.grade, obj.grade), year=obj.academic_year,
                 institution=obj.institution)

    def record_opened(self, obj: Enrolment) -> None:
        _log_opening(obj, obj.learner, obj.institution_id)

    def export_select(self) -> tuple[list[str], Any]:
        """Every field of the learner record, formatted by the database (see learner_export)."""
        dialect = db.session.get_bind().dialect.name
        return learner_export.headers(), learner_export.select_cells(
            self.export_query(), reveal_ids=may_reveal_id(current_user),
            dialect=dialect, whole_country=whole_country(current_user),
            reveal_contacts=may_see_contacts(current_user))

    def of_kind(self) -> tuple[Any, ...]:
        """The rows of this kind's institutions."""
        return (Enrolment.institution.has(Institution.kind == self.kind),)

    def get_query(self) -> Any:
        # One query per page: learner and institution are eager-loaded in the same SELECT.
        return (super().get_query().filter(*self.of_kind())
                .options(joinedload(Enrolment.learner), joinedload(Enrolment.institution)))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(*self.of_kind())

def _choices(kind: str) -> dict[str, Any]:
    return {"grade": [(g, GRADE_LABELS[g]) for g in GRADES_BY_KIND[kind]],
            "status": [(str(k), v) for k, v in STATUS_LABELS.items()
                       if k != EnrolmentStatus.REMOVED]}


def _filter_choices(kind: str) -> dict[str, Any]:
    """The list's grade and status filters offer the labels the list shows (ป.๖, กำลังศึกษา):
    nobody types the stored codes (P6, active) into a text box."""
    return {"grade": _choices(kind)["grade"],
            "status": [(str(k), v) for k, v in STATUS_LABELS.items()]}


class StudentView(EnrolmentView):
    """Students of schools, K1 to M6."""

    kind = "school"
    form_choices = _choices("school")
    column_choices = _filter_choices("school")


class ChildView(EnrolmentView):
    """Young children of child development centres, by age group."""

    kind = "cdc"

    def of_kind(self) -> tuple[Any, ...]:
        """Also in the centres' grades, which the rules keep to centres: they name the centres'
        own sort index (models/people.py), so the department's list skips every school row.
        A condition the students' list does without: it costs each of its rows a test."""
        return (*super().of_kind(), Enrolment.grade.in_(GRADES_BY_KIND[self.kind]))

    form_choices = _choices("cdc")
    column_choices = _filter_choices("cdc")
    column_labels = EnrolmentView.column_labels | {"grade": _l("Age group")}


class LearnerView(ScopedModelView):
    """A learner's identity, guardian and addresses; enrolment happens in the lists above."""

    can_delete = False
    column_list = ("national_id", "title", "first_name", "last_name", "gender", "birth_date")
    column_labels = {
        "national_id": _l("National ID"), "title": _l("Title"), "first_name": _l("First name"),
        "last_name": _l("Last name"), "gender": _l("Gender"), "birth_date": _l("Birth date"),
        "nationality": _l("Nationality"), "ethnicity": _l("Ethnicity"),
        "religion": _l("Religion"), "height_cm": _l("Height (cm)"),
        "weight_kg": _l("Weight (kg)"), "disadvantaged": _l("Disadvantaged"),
        "guardian_name": _l("Guardian"), "guardian_phone": _l("Guardian's phone"),
        "registered_address": _l("Registered address"),
        "registered_subdistrict": _l("Registered subdistrict"),
        "current_address": _l("Current address"), "current_subdistrict": _l("Current subdistrict"),
    }
    column_formatters = {
        "national_id": lambda v, c, m, n: id_with_reveal(Learner, m.id, m.national_id),
        "gender": labelled(GENDER_LABELS),
    } | dict.fromkeys(CONTACT_FIELDS, contact)
    column_formatters_export = column_formatters | {
        "national_id": lambda v, c, m, n: _shown_id(m.national_id)}
    column_searchable_list = ("national_id", "first_name", "last_name")
    form_columns = ("national_id", "title", "first_name", "last_name", "gender", "birth_date",
                    "nationality", "ethnicity", "religion", "height_cm", "weight_kg",
                    "disadvantaged", "guardian_name", "guardian_phone", "registered_address",
                    "registered_subdistrict", "current_address", "current_subdistrict")
    form_choices = {"gender": [(str(k), v) for k, v in GENDER_LABELS.items()],
                    "title": [(t, t) for t in TITLES]}
    # Typed as printed on the card (1 2345 67890 12 1, dashes, Thai digits), as the enrolment
    # form takes it: normalised before the column's 13-character limit is checked.
    form_args = {"national_id": {"description": ID_HELP, "filters": [normalise_national_id]}}
    form_ajax_refs = {
        "registered_subdistrict": {"fields": ("code", "name_th"), "page_size": 20},
        "current_subdistrict": {"fields": ("code", "name_th"), "page_size": 20},
    }
    can_create = False  # learners are created by enrolling them

    def search_condition(self, term: str) -> Any:
        return learner_condition(term)

    def count_statement(self, keys: Any, most: int, search: Any, filters: Any) -> Any:
        """Below the department the whole list is counted from the enrolments holding its
        learners, which stops at `most`; counted as learners, every enrolment of the subtree
        was gathered first (a province's 26,000: 50 ms of the page's SQL)."""
        holding = holding_enrolments(current_user)
        if search or filters or holding is None:
            return super().count_statement(keys, most, search, filters)
        return select(func.count()).select_from(
            select(Enrolment.id).where(holding).limit(most).subquery())

    def _apply_sorting(self, query: Any, joins: dict, sort_column: Any, sort_desc: bool
                       ) -> tuple[Any, dict]:
        """Below the department a column the reader sorts by is sorted within the subtree.
        IDs begin with the office that registered the birth, so a province's sit together:
        walking the national ID index to meet them read 1.3 million learners (2.3 s) for a
        province at its far end. The default order, by id, stays a walk: every province's
        learners are spread along it."""
        if sort_column is not None and not whole_country(current_user):
            query = query.order_by(LEARNERS_BY_SUBSET)
        return super()._apply_sorting(query, joins, sort_column, sort_desc)

    def record_subject(self, obj: Learner) -> str:
        return _("%(name)s (%(id)s)", name=obj.full_name, id=_shown_id(obj.national_id))

    def record_opened(self, obj: Learner) -> None:
        owner = owning_enrolment(db.session, obj.id)
        _log_opening(obj, obj, owner.institution_id if owner is not None else None)

    def scaffold_form(self) -> Any:
        """The form's own check that an ID is unique says what the rule says (ID_TAKEN), not
        a bare "already exists"."""
        form_class = super().scaffold_form()
        for validator in form_class.national_id.kwargs.get("validators", ()):
            if isinstance(validator, Unique):
                validator.message = ID_TAKEN
        return form_class

    def edit_form(self, obj: Any = None) -> Any:
        """Above the institution the whole ID is only read through a logged reveal, and the
        family's contacts not at all, so the form leaves them out; the heading shows the ID
        masked, the details the contacts masked, and they keep their stored values."""
        form = super().edit_form(obj)
        if not may_reveal_id(current_user):
            del form.national_id
        if not may_see_contacts(current_user):
            for name in CONTACT_FIELDS:
                delattr(form, name)
        return form
