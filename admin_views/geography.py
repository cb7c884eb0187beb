"""Read-only screens for the DOPA reference data: provinces, districts, subdistricts."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .base import ScopedModelView

LABELS = {"code": _l("Code"), "name_th": _l("Thai name"), "name_en": _l("English name"),
          "province": _l("Province"), "district": _l("District"),
          "postal_code": _l("Postal code")}


class ReferenceView(ScopedModelView):
    """Geography comes from `geothai` via `lec init`; nobody edits it by hand."""

    can_create = can_edit = can_delete = False
    column_display_pk = True
    column_searchable_list = ("code", "name_th", "name_en")
    column_labels = LABELS
    column_default_sort = "code"
    #: The English name is data, not interface: marked so readers and checks know its language.
    column_formatters = {"name_en": lambda v, c, m, n: Markup('<span lang="en">{}</span>').format(
        m.name_en or "")}


class ProvinceView(ReferenceView):
    column_list = ("code", "name_th", "name_en")


class DistrictView(ReferenceView):
    column_list = ("code", "name_th", "name_en", "province")


class SubdistrictView(ReferenceView):
    column_list = ("code", "name_th", "name_en", "district", "postal_code")
