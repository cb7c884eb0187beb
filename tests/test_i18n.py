"""Thai first (issue 2 item 6): no untranslated string on the generated admin pages; BE dates."""

from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import flask_admin
import pytest
from babel.messages.pofile import read_po
from conftest import PASSWORD, csrf_token
from flask_babel import force_locale, lazy_gettext

from i18n import be_date, in_language

ROOT = Path(__file__).resolve().parents[1]


def english_msgids() -> set[str]:
    """Every English string Flask-Admin, WTForms and LEC itself may show."""
    catalogs = [Path(flask_admin.__file__).parent / "translations/en/LC_MESSAGES/admin.po",
                ROOT / "translations/th/LC_MESSAGES/admin.po",
                ROOT / "translations/th/LC_MESSAGES/wtforms.po",
                ROOT / "translations/th/LC_MESSAGES/messages.po"]
    ids = set()
    for path in catalogs:
        with path.open("rb") as handle:
            for message in read_po(handle):
                for text in (message.id if isinstance(message.id, tuple) else (message.id,)):
                    if text and "%" not in text and any(c.isalpha() for c in text):
                        ids.add(text.strip())
    return ids - {"LEC", "OBEC", "Email", "QR"}


class VisibleText(HTMLParser):
    """Text nodes and the attributes a person reads (title, placeholder, button values)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "data-placeholder", "aria-label") and value:
                self.texts.append(value.strip())
            if name == "value" and tag == "input" and ("type", "submit") in attrs and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def untranslated(html: str, english: set[str]) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    return {text for text in parser.texts if text in english}


@pytest.mark.parametrize("path", [
    "/admin/",
    "/admin/institution/",
    "/admin/institution/new/",
    "/admin/institution/edit/?id={school}",
    "/admin/institution/details/?id={school}",
    "/admin/lao/",
    "/admin/lao/new/",
    "/admin/other_school/",
    "/admin/user/",
    "/admin/user/new/",
    "/admin/code_exception/new/",
    "/admin/province/",
])
def test_admin_pages_render_in_thai_with_nothing_left_in_english(app, tree, browser, path):
    page = browser(tree.department).get(path.format(school=tree.a.school.id))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert untranslated(html, english_msgids()) == set()
    assert "ระบบสารสนเทศทางการศึกษาท้องถิ่น" in html or "หน้าหลัก" in html


def test_a_failed_form_shows_wtforms_messages_in_thai(app, tree, browser):
    page = browser(tree.department).post("/admin/institution/new/", {"code": "", "name": ""})
    html = page.get_data(as_text=True)
    assert "This field is required." not in html
    assert untranslated(html, english_msgids()) == set()
    # Each language keeps its own messages: English after Thai in the same process.
    english = browser(tree.a.province_user)
    english.get("/language/en")
    page = english.post("/admin/institution/new/", {"code": "", "name": ""})
    assert "This field is required." in page.get_data(as_text=True)


def test_english_is_one_click_away(app, tree, browser):
    b = browser(tree.department)
    b.get("/language/en", headers={"Referer": "http://localhost/admin/institution/"})
    html = b.get("/admin/institution/").get_data(as_text=True)
    assert "Institution code" in html and "รหัสสถานศึกษา" not in html


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/language/en", headers={"Referer": "https://evil.example/x"})
    assert response.headers["Location"] in ("/x", "/admin/")


def test_dates_show_in_the_buddhist_era(app):
    with app.test_request_context():
        assert be_date(date(2021, 6, 10)) == "10 มิ.ย. 2564"
        # 17:30 UTC is 00:30 next day in Bangkok.
        assert be_date(datetime(2021, 6, 10, 17, 30, tzinfo=UTC)) == "11 มิ.ย. 2564 00:30"


def test_every_string_of_ours_has_its_thai_translation():
    with (ROOT / "translations/th/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and (m.fuzzy or not m.string or (
        isinstance(m.string, tuple) and not all(m.string)))]
    assert missing == []


def _has_thai(text: str) -> bool:
    return any("\u0e00" <= c <= "\u0e7f" for c in text)


def test_every_model_view_labels_its_columns_and_fields_in_thai(app, tree):
    """A column without a label shows Flask-Admin's English guess ('Status Changed At')."""
    from flask_admin.model import BaseModelView
    from flask_login import login_user

    english = []
    with app.test_request_context():
        login_user(tree.department)
        for view in app.extensions["admin"][0]._views:
            if not isinstance(view, BaseModelView):
                continue
            columns = list(view._list_columns)
            columns += list(view._details_columns) if view.can_view_details else []
            english += [(view.endpoint, name, str(label)) for name, label in columns
                        if not _has_thai(str(label))]
            forms = [(view._create_form_class, view.can_create),
                     (view._edit_form_class, view.can_edit)]
            for form_class, offered in forms:
                if offered:
                    english += [(view.endpoint, f.name, str(f.label.text))
                                for f in form_class(meta={"csrf": False})
                                if f.type != "HiddenField" and not _has_thai(str(f.label.text))]
    assert sorted(set(english)) == []


def test_the_page_size_menu_is_in_thai(app, tree, browser):
    html = browser(tree.department).get("/admin/institution/").get_data(as_text=True)
    assert "20 รายการ" in html and "100 รายการ" in html
    assert "20 items" not in html and "100 items" not in html


def test_the_audit_log_names_every_record_type_and_field_in_thai(app):
    """A field the log cannot name shows its column name ('cancelled_at') to a Thai reader."""
    from admin_views.audit_words import words
    from models import db
    from rules.audit import UNAUDITED

    admin = app.extensions["admin"][0]
    english = []
    with app.test_request_context():
        for mapper in db.Model.registry.mappers:
            if mapper.class_ in UNAUDITED:
                continue
            name = mapper.class_.__name__
            for kind in ("school", "cdc", None):
                found = words(admin, name, kind)
                english += [] if _has_thai(found.name) else [(name, "record type")]
                english += [(name, a.key) for a in mapper.column_attrs if a.key != "id"
                            and not _has_thai(str(found.fields.get(a.key, a.key)))]
    assert sorted(set(english)) == []


def test_english_picked_on_the_sign_in_page_stays_after_signing_in_and_out(app, tree):
    """The sign-in renews the session; the language chosen before it carries over."""
    client = app.test_client()
    client.get("/language/en")
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"login": tree.department.login, "password": PASSWORD,
                                "csrf_token": csrf_token(page)})
    home = client.get("/admin/").get_data(as_text=True)
    assert "Sign out" in home and "ออกจากระบบ" not in home
    client.post("/logout", data={"csrf_token": csrf_token(home)})
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_labels_made_once_per_language_follow_a_forced_language_outside_a_request(app):
    """A job or the CLI speaks its user's language without a request: the labels made for one
    language are not handed to the other."""
    shown = in_language({"active": lazy_gettext("Studying")})
    with force_locale("th"):
        assert shown() == {"active": "กำลังศึกษา"}
    with force_locale("en"):
        assert shown() == {"active": "Studying"}
