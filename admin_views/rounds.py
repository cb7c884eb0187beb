"""The department opens, extends and reopens collection rounds; everyone else reads them."""

from flask_babel import lazy_gettext as _l

from .base import ScopedModelView


class RoundView(ScopedModelView):
    """Extending or reopening a round is editing its closing date (SPEC §4)."""

    column_list = ("academic_year", "number", "opens_on", "closes_on", "institution_deadline",
                   "lao_deadline", "province_deadline")
    column_default_sort = [("academic_year", True), ("number", True)]
    column_labels = {
        "academic_year": _l("Academic year"), "number": _l("Round"),
        "opens_on": _l("Opens on"), "closes_on": _l("Closes on (24:00)"),
        "institution_deadline": _l("Institution deadline"), "lao_deadline": _l("LAO deadline"),
        "province_deadline": _l("Province deadline"),
    }
    form_columns = column_list
    editable_columns = ("closes_on",)
    can_delete = False
