"""Read-only screens for the DOPA reference data: provinces, districts, subdistricts."""

import geothai
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import Markup

from .base import ScopedModelView

LABELS = {"code": _l("Code"), "name_th": _l("Thai name"), "name_en": _l("English name"),
          "province": _l("Province"), "district": _l("District"),
          "postal_code": _l("Postal code")}


def _province_label(code: str, name_th: str, name_en: str) -> str:
    locale = get_locale()
    return f"{code} {name_en if locale is not None and locale.language == 'en' else name_th}"


def province_choices() -> list[tuple[str, LazyString]]:
    """Every province as the lists show it ("33 ศรีสะเกษ"), in the reader's language, for a
    filter that picks one instead of a code typed from memory."""
    return [(p.code, LazyString(_province_label, p.code, p.name_th, p.name_en))
            for p in geothai.provinces()]


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
