# ruff: noqa: F811 (the browser fixtures come from test_browser)
"""The daily screens in a real browser (Debian Chromium), at a desk (1366×768) and on a phone
(390×844): a school's day, an LAO's confirm, a province's progress, card issue, admission, and a
crawl of every menu page of each level for English left on a Thai page.

With LEC_SCREENSHOTS=1 the tests save the screenshots the README shows into docs/screenshots/.
"""

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from test_browser import chrome, live_url, sign_in, sign_out  # noqa: F401
from test_confirmation import YEAR, enrol, national_id

import clock
from admin_views.audit import AuditView
from models import Enrolment, Learner, Round, db
from rules import acting_as
from rules import confirmation as rules

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
DESK, PHONE = (1366, 768), (390, 844)
#: Latin words a Thai page may carry: codes, file formats, brand and product names.
ALLOWED = {"LEC", "OBEC", "DMC", "XLSX", "XLS", "CSV", "QR", "Code", "ID", "EN", "PDF",
           "Login", "User", "Password", "Profile", "LAO", "CDC", "BPP", "OK", "Excel", "MB",
           "UTF", "IP", "KB", "Seed", "DLA", "Windows", "API"}


def open_round() -> Round:
    """A round as officers meet it: open for a month, the deadlines a few days from today."""
    today = clock.today()
    round_ = Round(academic_year=YEAR, number=1, opens_on=today - timedelta(days=30),
                   closes_on=today + timedelta(days=14),
                   institution_deadline=today + timedelta(days=3),
                   lao_deadline=today + timedelta(days=7),
                   province_deadline=today + timedelta(days=10))
    db.session.add(round_)
    db.session.commit()
    return round_


def size(driver, width_height: tuple[int, int]) -> None:  # noqa: ANN001
    driver.set_window_size(*width_height)


def shot(driver, name: str) -> None:  # noqa: ANN001
    """Save a screenshot for the README, only when asked (CI must not dirty the tree)."""
    if os.environ.get("LEC_SCREENSHOTS") == "1" and db.engine.dialect.name == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        width = driver.get_window_size()["width"]
        driver.set_window_size(width, min(max(height + 120, 600), 2400))
        driver.save_screenshot(str(SHOTS / f"{name}.png"))


def wait_for(driver, css: str):  # noqa: ANN001, ANN201
    return WebDriverWait(driver, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def no_sideways_scroll(driver) -> bool:  # noqa: ANN001
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1")


def english_words(driver, login: str = "") -> set[str]:  # noqa: ANN001
    """Latin words in the page's visible text, its title and its placeholders; a login and the
    data marked lang="en" (English place names) are not English interface."""
    text = driver.execute_script(
        "var t = document.body.innerText + ' ' + document.title;"
        "document.querySelectorAll('[placeholder]').forEach(function (e) {"
        "  t += ' ' + e.getAttribute('placeholder'); });"
        "return t;")
    english = driver.execute_script(
        "return Array.from(document.querySelectorAll('[lang=en]'))"
        ".map(function (e) { return e.innerText; }).join(' ');")
    allowed = ALLOWED | set(re.findall(r"[A-Za-z]{2,}", login + " " + english))
    return {w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in allowed}


def test_a_schools_day_home_enrol_edit_confirm_summary(app, tree, live_url, chrome):
    round_ = open_round()
    size(chrome, DESK)
    sign_in(chrome, live_url, tree.a.school_user.login)
    chrome.get(f"{live_url}/admin/")
    assert "สิ่งที่ต้องทำตอนนี้" in chrome.page_source
    navbar = chrome.find_element(By.CSS_SELECTOR, "nav.navbar")
    assert navbar.size["height"] < 80  # one row at 1366 px
    assert not navbar.find_elements(By.CSS_SELECTOR, "a[href='/admin/child/']")  # a school's
    assert not navbar.find_elements(By.CSS_SELECTOR, "a[href='/admin/province/']")  # menu
    chrome.find_element(By.PARTIAL_LINK_TEXT, "บันทึกข้อมูลผู้เรียน").click()
    new_id = national_id()
    chrome.find_element(By.ID, "check_id").send_keys(new_id + "\n")
    wait_for(chrome, "#first_name").send_keys("มะลิ")
    chrome.find_element(By.ID, "last_name").send_keys("ใจดี")
    born = date(clock.ce_year(YEAR) - 6, 1, 10)
    chrome.find_element(By.ID, "birth_date").send_keys(
        f"{born.day} ม.ค. {clock.be_year(born.year)}")
    chrome.find_element(By.CSS_SELECTOR, "#grade option[value='P1']").click()
    chrome.find_element(By.CSS_SELECTOR, "form[action*='/enrol/'] button[type='submit']").click()
    WebDriverWait(chrome, 10).until(lambda driver: "/enrol/" not in driver.current_url)
    enrolment = db.session.query(Enrolment).join(Learner).filter(
        Learner.national_id == new_id).one()
    assert enrolment.learner.birth_date == born
    chrome.get(f"{live_url}/admin/student/edit/?id={enrolment.id}")
    classroom = wait_for(chrome, "#classroom")
    classroom.clear()
    classroom.send_keys("2")
    chrome.find_element(By.CSS_SELECTOR, "input[type='submit'][class*='btn-primary']").click()
    WebDriverWait(chrome, 10).until(lambda driver: "/edit/" not in driver.current_url)
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).classroom == "2"
    chrome.get(f"{live_url}/admin/")
    shot(chrome, "home-institution")
    chrome.find_element(By.PARTIAL_LINK_TEXT, "3. ยืนยันข้อมูล").click()
    chrome.find_element(By.CSS_SELECTOR, "a[href^='/admin/confirmation/confirm/']").click()
    table = wait_for(chrome, "table.lec-preview")
    assert "ป.๑" in table.text
    shot(chrome, "confirm-preview")
    chrome.find_element(By.ID, "lec-confirm-yes").click()
    chrome.find_element(By.PARTIAL_LINK_TEXT, "พิมพ์สรุปการยืนยันข้อมูล").click()
    assert "สรุปข้อมูล" in wait_for(chrome, ".lec-summary h2").text or \
        chrome.find_element(By.CSS_SELECTOR, ".lec-summary table")
    assert rules.live_confirmation(db.session, round_.id, "institution", "students",
                                   institution_id=tree.a.school.id) is not None


def test_an_lao_confirms_after_its_second_look(app, tree, live_url, chrome):
    round_ = open_round()
    enrol(tree.a.school, "P1", "F")
    db.session.commit()
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    size(chrome, DESK)
    sign_in(chrome, live_url, tree.a.muni_user.login)
    chrome.get(f"{live_url}/admin/")
    shot(chrome, "home-lao")
    # The home's button names the database and opens its second look at once.
    chrome.find_element(By.PARTIAL_LINK_TEXT, "ยืนยันภาพรวมของฐานข้อมูลนักเรียน").click()
    assert "ป.๑" in wait_for(chrome, "table.lec-preview").text
    chrome.find_element(By.ID, "lec-confirm-yes").click()
    wait_for(chrome, ".alert-success")
    assert rules.live_confirmation(db.session, round_.id, "lao", "students",
                                   lao_id=tree.a.muni.id) is not None


def test_a_province_follows_progress_and_the_department_its_home(app, tree, live_url,
                                                                 chrome):
    open_round()
    size(chrome, DESK)
    sign_in(chrome, live_url, tree.a.province_user.login)
    chrome.get(f"{live_url}/admin/")
    assert chrome.find_element(By.CSS_SELECTOR, "figure.lec-chart svg")
    assert "0 / 2" in chrome.find_element(By.TAG_NAME, "h2").text
    shot(chrome, "home-province")
    chrome.find_element(By.LINK_TEXT, "ติดตามความก้าวหน้าและยืนยันข้อมูล").click()
    assert tree.a.sao.code in wait_for(chrome, "table.lec-blocking").text
    shot(chrome, "progress-province")
    sign_out(chrome)
    sign_in(chrome, live_url, tree.department.login)
    chrome.get(f"{live_url}/admin/")
    assert chrome.find_element(By.CSS_SELECTOR, "figure.lec-chart svg")
    assert chrome.find_element(By.CSS_SELECTOR, "nav.navbar").size["height"] < 80
    shot(chrome, "home-department")


def test_card_issue_shows_whose_passwords_reset_first(app, tree, live_url, chrome):
    size(chrome, DESK)
    sign_in(chrome, live_url, tree.a.province_user.login)
    chrome.get(f"{live_url}/admin/cards/")
    chrome.find_element(By.CSS_SELECTOR, f"a[href$='group=lao:{tree.a.sao.id}']").click()
    listed = wait_for(chrome, "table").text
    assert tree.a.cdc_user.login in listed and tree.a.school_user.login not in listed
    shot(chrome, "cards-preview")
    chrome.find_element(By.ID, "lec-issue-yes").click()
    WebDriverWait(chrome, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".card")))
    assert len(chrome.find_elements(By.CSS_SELECTOR, ".card")) == 2


def test_a_school_on_a_phone_and_a_parent_applying_on_a_phone(app, tree, live_url,
                                                             chrome):
    open_round()
    tree.a.cdc.accepts_online_applications = True
    db.session.commit()
    size(chrome, PHONE)
    chrome.get(f"{live_url}/apply/{tree.a.cdc.code}")
    assert no_sideways_scroll(chrome)
    chrome.find_element(By.ID, "national_id").send_keys(national_id())
    chrome.find_element(By.ID, "first_name").send_keys("ต้นกล้า")
    chrome.find_element(By.ID, "last_name").send_keys("ใจดี")
    born = date(clock.ce_year(clock.academic_year()) - 3, 2, 1)
    chrome.find_element(By.ID, "birth_date").send_keys(
        f"{born.day:02d}/{born.month:02d}/{clock.be_year(born.year)}")
    chrome.find_element(By.ID, "contact_name").send_keys("นางสมศรี ใจดี")
    chrome.find_element(By.ID, "contact_phone").send_keys("081 234 5678")
    chrome.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    WebDriverWait(chrome, 10).until(ec.url_contains("/apply/submitted"))
    shot(chrome, "admission-phone")
    sign_in(chrome, live_url, tree.a.school_user.login)
    for page in ("/admin/", "/admin/student/", "/admin/confirmation/"):
        chrome.get(f"{live_url}{page}")
        assert no_sideways_scroll(chrome), page


@pytest.mark.sqlite_only
@pytest.mark.parametrize("who", ["school_user", "cdc_user", "muni_user", "province_user",
                                 "department"])
def test_no_english_on_any_menu_page_of_a_level(app, tree, live_url, chrome, who):
    open_round()
    user = getattr(tree, who) if who == "department" else getattr(tree.a, who)
    size(chrome, DESK)
    sign_in(chrome, live_url, user.login)
    links = chrome.execute_script(
        "return Array.from(document.querySelectorAll('nav.navbar a[href^=\"/\"]'))"
        ".map(function (a) { return a.getAttribute('href'); });")
    pages = sorted({href for href in links if "/language/" not in href and href != "/admin"})
    assert len(pages) >= 5
    found = {}
    for page in pages:
        chrome.get(f"{live_url}{page}")
        words = english_words(chrome, user.login)
        if words:
            found[page] = sorted(words)
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())


@pytest.mark.sqlite_only
def test_the_date_range_filter_picker_speaks_thai_with_buddhist_era_years(app, tree, live_url,
                                                                          chrome):
    (audit,) = [v for v in app.extensions["admin"][0]._views if isinstance(v, AuditView)]
    with app.test_request_context():
        (arg,) = [a for a, (_i, f) in audit._filter_args.items()
                  if type(f).__name__ == "DateTimeBetweenFilter"]
    size(chrome, DESK)
    sign_in(chrome, live_url, tree.department.login)
    chrome.get(f"{live_url}/admin/audit/?flt0_{arg}=2026-11-01 00:00:00 to 2026-11-30 23:59:59")
    wait_for(chrome, "input.filter-val").click()
    picker = wait_for(chrome, ".daterangepicker")
    assert "ตกลง" in picker.find_element(By.CSS_SELECTOR, ".applyBtn").text
    years = [o.text for o in picker.find_elements(By.CSS_SELECTOR, ".yearselect option")]
    assert "2569" in years and "2026" not in years
    months = [o.text for o in picker.find_elements(By.CSS_SELECTOR, ".monthselect option")]
    assert "พ.ย." in months
    assert "อา" in picker.text and "Su" not in picker.text
    # The box itself reads in BE too, before and after the picker writes it.
    box = chrome.find_element(By.CSS_SELECTOR, "input.filter-val")
    assert box.get_attribute("value") == "01/11/2569 00:00:00 ถึง 30/11/2569 23:59:59"
    picker.find_element(By.CSS_SELECTOR, ".applyBtn").click()
    assert box.get_attribute("value") == "01/11/2569 00:00:00 ถึง 30/11/2569 23:59:59"
    chrome.execute_script("document.getElementById('filter_form').submit()")
    WebDriverWait(chrome, 10).until(ec.url_contains("%E0%B8%96%E0%B8%B6%E0%B8%87"))  # ถึง
    assert chrome.find_element(By.CSS_SELECTOR, "input.filter-val").get_attribute(
        "value") == "01/11/2569 00:00:00 ถึง 30/11/2569 23:59:59"


def test_the_register_of_removed_learners_prints(app, tree, live_url, chrome):
    """The policy runs no inline onclick: the Print button must be bound by a script."""
    open_round()
    ghost = enrol(tree.a.school)
    ghost.status, ghost.removal_reason = "removed", "never_came"
    db.session.commit()
    size(chrome, DESK)
    sign_in(chrome, live_url, tree.a.school_user.login)
    chrome.get(f"{live_url}/admin/student/removed/")
    assert ghost.learner.national_id in wait_for(chrome, "table").text
    chrome.execute_script("window.print = function () { window.lecPrinted = true; };")
    chrome.find_element(By.XPATH, "//button[normalize-space()='สั่งพิมพ์']").click()
    assert chrome.execute_script("return window.lecPrinted === true;")


def test_the_signed_summary_and_the_register_print_at_the_width_of_a4(app, tree, live_url,
                                                                      chrome):
    """Printed on A4 (15 mm margins: 680 px), the page is the paper's width, not shrunk from
    992 px; the screen's own title is left off the printout."""
    round_ = open_round()
    enrol(tree.a.school, "P1", "F")
    ghost = enrol(tree.a.school)
    ghost.status, ghost.removal_reason = "removed", "never_came"
    db.session.commit()
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    sign_in(chrome, live_url, tree.a.school_user.login)
    chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 680, "height": 960, "deviceScaleFactor": 1, "mobile": False})
    for page, title in ((f"/admin/reports/summary/?round={round_.id}", "สรุปข้อมูล"),
                        ("/admin/student/removed/", "ทะเบียน")):
        chrome.get(f"{live_url}{page}")
        assert title in wait_for(chrome, "h2").text
        assert chrome.execute_script("return document.documentElement.scrollWidth") <= 680
        assert not chrome.find_element(By.CSS_SELECTOR, "h4.mb-4").is_displayed()
