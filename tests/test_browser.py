"""In a real browser (headless Chromium): the admin's JavaScript runs under our CSP and
inline editing works end to end. CI installs chromium and chromium-driver (see .ci/run)."""

import os
import shutil
import threading

import pytest
from conftest import PASSWORD
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from models import Enrolment, Institution, Learner, db
from rules.enrolment import current_academic_year

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def live_url(app):
    """The app served on a free loopback port for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def chrome():
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: install chromium and chromium-driver")
        pytest.skip("chromium or chromedriver not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def sign_in(chrome, live_url, login):
    chrome.get(f"{live_url}/login")
    WebDriverWait(chrome, 10).until(
        ec.presence_of_element_located((By.NAME, "login"))).send_keys(login)
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(chrome, 10).until(ec.url_contains("/admin/"))


def sign_out(chrome):
    """As a user does: the navbar's sign-out form (a POST with its CSRF token), then the form."""
    chrome.find_element(By.CSS_SELECTOR, "form[action$='/logout']").submit()
    WebDriverWait(chrome, 10).until(ec.presence_of_element_located((By.NAME, "login")))


def csp_errors(chrome) -> list[str]:
    return [entry["message"] for entry in chrome.get_log("browser")
            if "Content Security Policy" in entry["message"]]


def test_inline_edit_works_in_a_real_browser_under_the_csp(app, tree, live_url, chrome):
    sign_in(chrome, live_url, tree.department.login)
    chrome.get(f"{live_url}/admin/institution/")
    assert "รหัสสถานศึกษา" in chrome.page_source
    editable = chrome.find_element(
        By.CSS_SELECTOR, f'a[name="phone"][data-pk="{tree.a.school.id}"]')
    editable.click()
    field = WebDriverWait(chrome, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".editable-input input")))
    field.clear()
    field.send_keys("045 999 999" + Keys.ENTER)
    WebDriverWait(chrome, 10).until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, f'a[name="phone"][data-pk="{tree.a.school.id}"]'),
            "045 999 999"))
    db.session.expire_all()
    assert db.session.get(Institution, tree.a.school.id).phone == "045 999 999"
    assert csp_errors(chrome) == []


def test_a_rule_refusal_shows_in_the_inline_editor(app, tree, live_url, chrome):
    sign_in(chrome, live_url, tree.department.login)
    chrome.get(f"{live_url}/admin/institution/")
    chrome.find_element(
        By.CSS_SELECTOR, f'a[name="code"][data-pk="{tree.a.school.id}"]').click()
    field = WebDriverWait(chrome, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".editable-input input")))
    field.clear()
    field.send_keys("3033300001" + Keys.ENTER)
    error = WebDriverWait(chrome, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".editable-error-block")))
    assert "หลักที่ ๕ ของรหัสสถานศึกษา" in error.text
    db.session.expire_all()
    assert db.session.get(Institution, tree.a.school.id).code == "3033200001"


def test_a_grade_is_picked_from_the_list_the_page_sends_once(app, tree, live_url, chrome):
    year = current_academic_year(db.session)
    learner = Learner(national_id="1100000000016", first_name="ทดสอบ", last_name="เลือกชั้น",
                      gender="F")
    enrolment = Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                          grade="P1", status="active")
    db.session.add(enrolment)
    db.session.commit()
    sign_in(chrome, live_url, tree.a.school_user.login)
    chrome.get(f"{live_url}/admin/student/")
    cell = f'a[name="grade"][data-pk="{enrolment.id}"]'
    chrome.find_element(By.CSS_SELECTOR, cell).click()
    choice = WebDriverWait(chrome, 10).until(ec.visibility_of_element_located(
        (By.XPATH, "//*[contains(@class, 'select2-result') and normalize-space()='ป.๒']")))
    assert chrome.find_element(By.CSS_SELECTOR, ".select2-chosen, .select2-selection").text == "ป.๑"
    choice.click()
    chrome.find_element(By.CSS_SELECTOR, ".editable-submit").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, cell), "ป.๒"))
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).grade == "P2"
    assert csp_errors(chrome) == []


def test_an_import_goes_from_upload_to_its_checked_preview_and_is_written(
        app, tree, live_url, chrome, tmp_path):
    from test_import_learners import YEAR, csv_bytes, learner_count, row

    sign_in(chrome, live_url, tree.a.school_user.login)
    chrome.get(f"{live_url}/admin/import/?year={YEAR}")
    upload = tmp_path / "learners.csv"
    upload.write_bytes(csv_bytes([row(1), row(2), row(3)]))
    chrome.find_element(By.ID, "file").send_keys(str(upload))
    chrome.find_element(By.CSS_SELECTOR, "#import-form button[type=submit]").click()
    # The upload's answer is the page of the job that checked the file.
    WebDriverWait(chrome, 20).until(ec.url_contains("/admin/import/job/"))
    confirm = WebDriverWait(chrome, 20).until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, "form[action*='/admin/import/commit/'] button")))
    assert learner_count() == 0
    confirm.click()
    done = WebDriverWait(chrome, 20).until(
        ec.visibility_of_element_located((By.ID, "import-done")))
    assert "3" in done.text
    db.session.expire_all()
    assert learner_count() == 3
    assert not csp_errors(chrome)
