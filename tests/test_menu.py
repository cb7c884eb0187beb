"""The menu of each level and kind of institution, derived from rules.permissions: what a user's
navbar shows is exactly the pages `PAGES` opens to their level and `USES` says they work on."""

import re

import pytest

from rules.permissions import PAGES, USES

#: Who signs in, and the desk `USES` names them by: their level, or their institution's kind.
DESKS = {"department": "department", "province_user": "province", "muni_user": "lao",
         "school_user": "school", "cdc_user": "cdc"}


def user_of(tree, who: str):  # noqa: ANN001, ANN201
    return tree.department if who == "department" else getattr(tree.a, who)


def menu_paths(page: str) -> set[str]:
    """The paths the navbar's menu links to (the part before the account links)."""
    navbar = page[page.index("<nav"):page.index('<ul class="navbar-nav ml-auto">')]
    return {href.split("?")[0].rstrip("/") for href in re.findall(r'href="([^"#]+)"', navbar)}


def expected(app, who: str) -> set[str]:  # noqa: ANN001
    """The paths the tables put in the menu of `who`, from the registered views."""
    admin = app.extensions["admin"][0]
    level = "institution" if DESKS[who] in ("school", "cdc") else DESKS[who]
    return {view.url.rstrip("/") for view in admin._views
            if level in PAGES.get(view.endpoint, ())
            and DESKS[who] in USES.get(view.endpoint, {DESKS[who]})}


@pytest.mark.parametrize("who", sorted(DESKS))
def test_each_menu_is_what_the_tables_say(app, tree, browser, who) -> None:
    page = browser(user_of(tree, who)).get("/admin/").get_data(as_text=True)
    admin = app.extensions["admin"][0]
    views = {view.url.rstrip("/") for view in admin._views}
    assert menu_paths(page) & views == expected(app, who)


def test_a_school_and_a_centre_see_only_their_own_learners(app, tree, browser) -> None:
    school = menu_paths(browser(tree.a.school_user).get("/admin/").get_data(as_text=True))
    centre = menu_paths(browser(tree.a.cdc_user).get("/admin/").get_data(as_text=True))
    assert "/admin/student" in school and "/admin/child" not in school
    assert "/admin/province" not in school
    assert "/admin/building" in school and "/admin/building" in centre  # SPEC §3: every one's
    assert "/admin/centre_basic_data" not in school
    assert "/admin/child" in centre and "/admin/student" not in centre
    assert "/admin/profile" not in school  # reached from the account links, not the menu


def test_every_menu_entry_names_a_page(app) -> None:
    admin = app.extensions["admin"][0]
    endpoints = {view.endpoint for view in admin._views}
    assert set(USES) <= endpoints, set(USES) - endpoints
    assert set(USES) <= set(PAGES)


def test_the_menu_follows_the_language_and_the_open_page(tree, browser) -> None:
    """The menu is drawn once per desk, language and page: each still gets its own."""
    client = browser(tree.a.province_user)

    def active(path: str) -> tuple[str, str]:
        page = client.get(path).get_data(as_text=True)
        navbar = page[page.index("<nav"):page.index('<ul class="navbar-nav ml-auto">')]
        link = re.search(r'class="dropdown-item active[^"]*"\s+href="([^"]+)"', navbar)
        return link.group(1).rstrip("/"), navbar

    student, thai = active("/admin/student/")
    child, _ = active("/admin/child/")
    assert (student, child) == ("/admin/student", "/admin/child")
    assert "นักเรียน</a>" in thai and "Students</a>" not in thai
    client.get("/language/en")
    again, english = active("/admin/student/")
    assert again == "/admin/student"
    assert "Students</a>" in english and "นักเรียน</a>" not in english
