"""List filters on dates read the BE dates and "ถึง" the Thai picker writes, and ISO still."""

import urllib.parse
from datetime import UTC, datetime, time

import pytest
from flask_admin.contrib.sqla.filters import (
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FilterEqual,
)
from test_exports import filter_arg

import clock
from admin_views.date_filters import iso


@pytest.mark.parametrize(("written", "read"), [
    ("16/05/2569", "2026-05-16"),
    ("1/5/2569 ถึง 31/5/2569", "2026-05-01 to 2026-05-31"),
    ("01/11/2569 00:00:00 ถึง 30/11/2569 23:59:59", "2026-11-01 00:00:00 to 2026-11-30 23:59:59"),
    ("2026-05-16 to 2026-05-31", "2026-05-16 to 2026-05-31"),
    ("16/05/2026", "2026-05-16"),  # a Gregorian year typed the Thai way stays what it says
])
def test_be_filter_values_become_iso(written, read):
    assert iso(written) == read


def _audit_range_arg(app) -> str:
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "audit")
    with app.test_request_context():
        return next(key for key, (_i, flt) in view._filter_args.items()
                    if type(flt).__name__ == "DateTimeBetweenFilter")


@pytest.mark.parametrize("hour_utc", [3, 17])  # 10:30 and (the next day already) 00:30 in Bangkok
def test_the_audit_log_filters_by_a_be_range_as_by_an_iso_one(app, tree, browser, monkeypatch,
                                                              hour_utc):
    """The times typed are Bangkok's: just after midnight the entry is today's, not UTC's."""
    moment = datetime.combine(clock.today(), time(hour_utc, 30), tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    arg = _audit_range_arg(app)
    client = browser(tree.department)  # signing in writes today's entry
    today = clock.today()
    be = f"{today:%d/%m}/{clock.be_year(today.year)}"
    ranges = {"today, BE": f"{be} 00:00:00 ถึง {be} 23:59:59",
              "today, ISO": f"{today:%Y-%m-%d} 00:00:00 to {today:%Y-%m-%d} 23:59:59",
              "2560, BE": "01/01/2560 00:00:00 ถึง 31/12/2560 23:59:59"}
    empty = {}
    for name, value in ranges.items():
        page = client.get(f"/admin/audit/?flt0_{arg}=" + urllib.parse.quote(value))
        assert page.status_code == 200
        empty[name] = "ไม่พบข้อมูลในตาราง" in page.get_data(as_text=True)
    assert empty == {"today, BE": False, "today, ISO": False, "2560, BE": True}


def test_the_audit_log_reads_dates_typed_without_times_as_whole_days(app, tree, browser):
    """Typed by hand, "01/12/2569 ถึง 05/12/2569" in the When filter was refused as an invalid
    filter value: the log asked for times nobody types."""
    arg = _audit_range_arg(app)
    client = browser(tree.department)  # signing in writes today's entry
    today = clock.today()
    be = f"{today:%d/%m}/{clock.be_year(today.year)}"
    for value, found in ((f"{be} ถึง {be}", True), ("01/01/2560 ถึง 31/12/2560", False)):
        page = client.get(f"/admin/audit/?flt0_{arg}=" + urllib.parse.quote(value))
        text = page.get_data(as_text=True)
        assert "ค่าตัวกรองไม่ถูกต้อง" not in text, value
        assert ("ไม่พบข้อมูลในตาราง" not in text) is found, value


def test_an_academic_year_typed_in_the_common_era_is_named_not_silently_empty(app, tree, browser):
    """2026 for 2569 matched nothing, and the list said only that it was empty; the export of
    "the filtered list" must not quietly become the whole list either."""
    arg = filter_arg(app, "student", "academic_year", FilterEqual)
    school = browser(tree.a.school_user)
    year = clock.academic_year()
    page = school.get(f"/admin/student/?{arg}={year - 543}").get_data(as_text=True)
    assert f"ค.ศ. {year - 543} คือ พ.ศ. {year}" in page
    assert "ปีการศึกษาเป็นปีพุทธศักราช" not in school.get(
        f"/admin/student/?{arg}={year}").get_data(as_text=True)
    export = school.get(f"/admin/student/export/csv/?{arg}={year - 543}")
    assert export.status_code == 302


@pytest.mark.parametrize("kind", [DateTimeGreaterFilter, DateTimeSmallerFilter])
def test_a_time_before_the_first_utc_moment_is_refused_as_unreadable(app, tree, browser, kind):
    """01/01/0001 in Bangkok is still the year 0 in UTC, which Python has not: the audit log
    gave an error page where any other unreadable value is named and left out."""
    arg = filter_arg(app, "audit", "at", kind)
    page = browser(tree.department).get(f"/admin/audit/?{arg}=" + urllib.parse.quote("01/01/0001"))
    assert page.status_code == 200
    assert "ค่าตัวกรองไม่ถูกต้อง" in page.get_data(as_text=True)
