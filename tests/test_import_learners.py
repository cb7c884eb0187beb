"""Bulk learner import (SPEC §7, issue 6 item 5): every row checked, all or nothing, idempotent."""

import csv
import gc
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import delete, event, func, select, text

import clock
from models import Enrolment, Learner, db
from rules import acting_as, windows
from rules.identity import check_digit
from seed.learners import letters
from spreadsheets import learner_import as importer
from spreadsheets.columns import LEARNER_FIELDS

YEAR = clock.academic_year()
HEADER = ["เลขประจำตัวประชาชน", "คำนำหน้าชื่อ", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด",
          "ระดับชั้น", "ห้องเรียน"]


#: The birth date `row` gives: a usual age for P1 in YEAR.
BORN = date(clock.ce_year(YEAR - 7), 2, 1)


def nid(n: int, first: str = "1") -> str:
    """A national ID with a valid checksum."""
    body = f"{first}{n:011d}"
    return body + str(check_digit(body))


def row(n: int, **changes: str) -> list[str]:
    values = {"id": nid(n), "title": "เด็กชาย", "first": f"สมชาย{letters(n)}", "last": "ใจดี",
              "gender": "ชาย", "birth": f"01/02/{YEAR - 7}", "grade": "P1", "room": "1/1"}
    values.update(changes)
    return list(values.values())


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8-sig"
              ) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(browser, data: bytes, name: str = "learners.csv", **fields: str):
    """Upload and see the preview its check job made: nothing is written yet."""
    return browser.post(f"/admin/import/?year={YEAR}",
                        data={"file": (io.BytesIO(data), name), "year": str(YEAR), **fields},
                        content_type="multipart/form-data", follow_redirects=True)


def upload_and_confirm(browser, data: bytes, name: str = "learners.csv", **fields: str):
    """Upload, read the preview, then press its one confirm button."""
    preview = upload(browser, data, name, **fields)
    match = re.search(r'action="(/admin/import/commit/\d+/)"', preview.get_data(as_text=True))
    if match is None:
        return preview
    return browser.post(match.group(1), follow_redirects=True)


def learner_count() -> int:
    return db.session.scalar(select(func.count(Learner.id)))


def run(user, institution, data: bytes) -> importer.Result:
    with acting_as(user):
        result = importer.import_learners(db.session, data, institution, YEAR)
        db.session.commit()  # the caller's (a job's) transaction
    return result


def test_school_imports_its_learners_over_http(app, tree, browser):
    school = browser(tree.a.school_user)
    preview = upload(school, csv_bytes([row(1), row(2), row(3)]))
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert learner_count() == 0  # a preview writes nothing
    response = upload_and_confirm(school, csv_bytes([row(1), row(2), row(3)]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "3" in response.get_data(as_text=True)
    enrolments = db.session.scalars(select(Enrolment).where(
        Enrolment.institution_id == tree.a.school.id)).all()
    assert sorted(e.learner.national_id for e in enrolments) == [nid(1), nid(2), nid(3)]
    assert {(e.academic_year, e.grade, e.classroom, e.status) for e in enrolments} == {
        (YEAR, "P1", "1/1", "active")}
    assert enrolments[0].learner.birth_date == BORN  # 01/02 of the BE year seven back


def test_reimporting_the_same_file_adds_and_changes_nothing(app, tree):
    data = csv_bytes([row(1), row(2)])
    first = run(tree.a.school_user, tree.a.school, data)
    assert (first.ok, first.learners_created, first.enrolled) == (True, 2, 2)
    again = run(tree.a.school_user, tree.a.school, data)
    assert again.ok and again.unchanged == 2
    assert (again.learners_created, again.learners_updated, again.enrolled,
            again.enrolments_updated) == (0, 0, 0, 0)
    assert learner_count() == 2
    assert db.session.scalar(select(func.count(Enrolment.id))) == 2


def test_a_changed_row_updates_the_learner(app, tree):
    run(tree.a.school_user, tree.a.school, csv_bytes([row(1)]))
    result = run(tree.a.school_user, tree.a.school, csv_bytes([row(1, room="1/2", last="ใจงาม")]))
    assert (result.learners_updated, result.enrolments_updated) == (1, 1)
    learner = db.session.scalar(select(Learner))
    assert learner.last_name == "ใจงาม" and learner.enrolments[0].classroom == "1/2"


@pytest.mark.parametrize("bad,column,reason", [
    (dict(id="1234567890123"), "เลขประจำตัวประชาชน", "1234567890123"),
    (dict(first=""), "ชื่อ", ""),
    (dict(gender="X"), "เพศ", ""),
    (dict(grade="M7"), "ระดับชั้น", "M7"),
    (dict(birth="31/02/2561"), "วันเกิด", "31/02/2561"),  # ISO and CE dates are read now
    (dict(birth="early 2561"), "วันเกิด", "16/05/2568"),
])
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_written(
        app, tree, bad, column, reason):
    data = csv_bytes([row(1), row(2, **bad), row(3)])
    with app.test_request_context():  # Thai, as the user sees it
        result = run(tree.a.school_user, tree.a.school, data)
    assert not result.ok
    assert [(p.line, p.column) for p in result.problems] == [(3, column)]
    assert reason in result.problems[0].reason
    assert learner_count() == 0


def test_a_bad_value_repeated_down_the_file_is_reported_on_every_line(app, tree):
    data = csv_bytes([row(1, grade="ป.9"), row(2), row(3, grade="ป.9"), row(4, birth="31/02/2561"),
                      row(5, birth="31/02/2561")])
    with app.test_request_context():
        result = run(tree.a.school_user, tree.a.school, data)
    assert [(p.line, p.column) for p in result.problems] == [
        (2, "ระดับชั้น"), (4, "ระดับชั้น"), (5, "วันเกิด"), (6, "วันเกิด")]
    assert result.problems[0].reason == result.problems[1].reason
    assert learner_count() == 0


def test_learner_active_elsewhere_refuses_the_whole_file(app, tree):
    run(tree.b.school_user, tree.b.school, csv_bytes([row(7)]))
    result = run(tree.a.school_user, tree.a.school, csv_bytes([row(1), row(7)]))
    assert [p.line for p in result.problems] == [3]
    assert tree.b.school.code in result.problems[0].reason
    assert learner_count() == 1  # only the learner of the other school


def test_duplicate_rows_in_one_file_are_refused(app, tree):
    result = run(tree.a.school_user, tree.a.school, csv_bytes([row(1), row(2), row(1)]))
    assert [p.line for p in result.problems] == [4]
    assert "2" in result.problems[0].reason
    assert learner_count() == 0


@pytest.mark.parametrize("text", ["=1+1", "+66812345678", "-1", "@SUM(A1)", "\t=1"])
def test_formulas_in_cells_are_refused(app, tree, text):
    result = run(tree.a.school_user, tree.a.school, csv_bytes([row(1, last=text)]))
    assert [(p.line, p.column) for p in result.problems] == [(2, "นามสกุล")]
    assert learner_count() == 0


def test_unknown_columns_are_listed_as_ignored_and_missing_ones_refused(app, tree):
    result = run(tree.a.school_user, tree.a.school,
                 csv_bytes([row(1) + ["x"]], header=HEADER + ["Shoe size"]))
    assert result.ok and result.ignored == ["Shoe size"]
    db.session.execute(delete(Enrolment))
    db.session.execute(delete(Learner))
    result = run(tree.a.school_user, tree.a.school,
                 csv_bytes([row(1)[:3]], header=HEADER[:3]))
    assert {p.column for p in result.problems} == {"นามสกุล", "ระดับชั้น"}  # เพศ: from the title
    assert learner_count() == 0


@pytest.mark.parametrize("data", [
    b"%PDF-1.4 not a spreadsheet",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel",
    b"PK\x03\x04broken zip",
    b"",
])
def test_unreadable_files_are_refused(app, tree, data):
    result = run(tree.a.school_user, tree.a.school, data)
    assert not result.ok and result.problems[0].line is None
    assert learner_count() == 0


def test_a_50_mb_upload_is_refused_and_the_server_answers(app, tree, browser):
    school = browser(tree.a.school_user)
    boundary = "lec-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{school.csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.csv\"\r\n\r\n").encode() + b"a" * (50 * 1024 * 1024) + (
            f"\r\n--{boundary}--\r\n").encode()
    response = school.client.post("/admin/import/", data=body,
                                  content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert school.get("/admin/import/").status_code == 200
    assert learner_count() == 0


def test_bad_row_report_downloads_for_the_uploader_only(app, tree, browser):
    school = browser(tree.a.school_user)
    page = upload(school, csv_bytes([row(1, gender="?"), row(2, grade="Z9")]))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    link = re.search(r'href="(/admin/import/job/\d+/report/csv/)"', html).group(1)
    report = school.get(link)
    lines = list(csv.reader(io.StringIO(report.get_data().decode("utf-8-sig"))))
    assert lines[0] == ["บรรทัด", "คอลัมน์", "ปัญหา"]
    assert [r[0] for r in lines[1:]] == ["2", "3"]
    other = browser(tree.b.school_user)
    assert other.get(link).status_code == 404
    book = openpyxl.load_workbook(io.BytesIO(school.get(link.replace("csv", "xlsx")).data))
    line = book.active.cell(2, 1)  # a line of the file, not a count: 12345, never 12,345
    assert (line.value, line.number_format) == (2, "0")


def test_bad_row_report_is_named_by_institution_and_be_date(app, tree, browser, monkeypatch):
    """Two schools' reports, or one school's of two days, no longer land as the same
    import-problems.csv: the name says whose file it was and the day, as other exports do."""
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 6, 3, 18, 30, tzinfo=UTC))  # 4 June
    school = browser(tree.a.school_user)
    html = upload(school, csv_bytes([row(1, gender="?")])).get_data(as_text=True)
    link = re.search(r'href="(/admin/import/job/\d+/report/csv/)"', html).group(1)
    for export_type in ("csv", "xlsx"):
        response = school.get(link.replace("csv", export_type))
        assert response.get_data()  # read to the end: the streamed file closes its context
        expected = f"import-problems_{tree.a.school.code}_25690604.{export_type}"
        assert f'filename="{expected}"' in response.headers["Content-Disposition"]


def test_a_birth_date_of_2400_or_in_the_future_is_refused_under_its_column(app, tree, browser):
    """01/01/2400 BE is 1857 CE: a mistyped year, not a learner. Both birth date problems
    name their column in the preview and in the report the user downloads."""
    future = clock.today() + timedelta(days=40)
    typed = f"{future:%d/%m}/{clock.be_year(future.year)}"
    school = browser(tree.a.school_user)
    page = upload(school, csv_bytes([row(1), row(2, birth="01/01/2400"), row(3, birth=typed)]))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "วันเกิด 01/01/2400 อยู่ก่อนวันที่ 01/01/" in html
    link = re.search(r'href="(/admin/import/job/\d+/report/csv/)"', html).group(1)
    lines = list(csv.reader(io.StringIO(school.get(link).get_data().decode("utf-8-sig"))))
    assert [r[:2] for r in lines[1:]] == [["3", "วันเกิด"], ["4", "วันเกิด"]]
    assert "ไม่มีนักเรียนหรือเด็กเล็ก" in lines[1][2] and "อนาคต" in lines[2][2]
    assert learner_count() == 0


def test_an_lao_imports_only_into_its_own_institutions(app, tree, browser):
    response = upload_and_confirm(browser(tree.a.muni_user), csv_bytes([row(1)]),
                                  institution=tree.b.school.code)
    assert response.status_code == 422 and learner_count() == 0
    response = upload_and_confirm(browser(tree.a.muni_user), csv_bytes([row(1)]),
                                  institution=tree.a.school.code)
    assert learner_count() == 1


def _full_learners(count: int, school) -> None:
    """Learners with every column filled, including text a spreadsheet would run."""
    with acting_as(None):
        for n in range(count):
            learner = Learner(national_id=nid(n, first="0" if n % 2 else "1"),
                              title="เด็กหญิง", first_name=f"มะลิ{letters(n)}",
                              last_name="ศรีสุข", gender="F", birth_date=date(2017, 5, n + 1),
                              nationality="ไทย", ethnicity="ไทย", religion="พุทธ",
                              height_cm=Decimal("120.5"), weight_kg=Decimal("22.0"),
                              disadvantaged=n % 2 == 0, guardian_name="นางมาลี ศรีสุข",
                              guardian_phone="+66 81 234 5678",
                              registered_address="=1 หมู่ 2" if n == 0 else "1 หมู่ 2",
                              current_address="1 หมู่ 2")
            db.session.add(Enrolment(learner=learner, institution=school, academic_year=YEAR,
                                     grade="P2", classroom=f"2/{n % 3}",
                                     enrolled_on=date(2025, 5, 16), status="active"))
        db.session.commit()


def _snapshot() -> list[tuple]:
    rows = db.session.execute(select(Learner, Enrolment).join(Enrolment)
                              .order_by(Learner.national_id)).all()
    keys = list(LEARNER_FIELDS)
    return [(learner.national_id, *(str(getattr(learner, k)) for k in keys),
             enrolment.grade, enrolment.classroom, enrolment.enrolled_on, enrolment.status,
             enrolment.academic_year) for learner, enrolment in rows]


def test_only_the_school_downloads_its_learners_with_whole_ids(tree, browser):
    _full_learners(2, tree.a.school)
    path = f"/admin/import/learners/csv/?year={YEAR}&institution={tree.a.school.code}"
    for above in (tree.a.muni_user, tree.a.province_user, tree.department):
        assert browser(above).get(path).status_code == 403
    assert browser(tree.a.school_user).get(path).status_code == 200


@pytest.mark.parametrize("export_type", ["csv", "xlsx"])
def test_round_trip_export_then_import_into_an_empty_copy(app, tree, browser, export_type):
    _full_learners(6, tree.a.school)
    before = _snapshot()
    school = browser(tree.a.school_user)
    exported = school.get(f"/admin/import/learners/{export_type}/?year={YEAR}").get_data()
    if export_type == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
        at = [c.value for c in sheet[1]].index("เลขประจำตัวประชาชน") + 1
        ids = list(sheet.iter_rows(min_col=at, max_col=at))
        assert all(r[0].data_type == "s" for r in ids)  # IDs as text: leading zeros kept
    db.session.execute(delete(Enrolment))
    db.session.execute(delete(Learner))
    db.session.commit()
    response = upload_and_confirm(school, exported, name=f"learners.{export_type}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _snapshot() == before
    # and once more: the same file adds and changes nothing
    again = run(tree.a.school_user, tree.a.school, exported)
    assert again.ok and again.unchanged == 6


def test_last_years_file_keeps_no_contact_of_a_learner_now_held_elsewhere(app, tree, browser):
    """The school a learner left may still download its old year: names, not how to reach them."""
    _full_learners(2, tree.a.school)
    moved = db.session.scalars(select(Enrolment).order_by(Enrolment.id)).first()
    with acting_as(None):
        db.session.add(Enrolment(learner_id=moved.learner_id, institution=tree.b.school,
                                 academic_year=YEAR + 1, grade="P3", status="active"))
        db.session.commit()
    text = browser(tree.a.school_user).get(
        f"/admin/import/learners/csv/?year={YEAR}").get_data().decode("utf-8-sig")
    rows = {r["เลขประจำตัวประชาชน"]: r for r in csv.DictReader(io.StringIO(text))}
    gone, stayed = rows[moved.learner.national_id], rows[nid(1, first="0")]
    assert gone["ชื่อ"] == "มะลิก" and gone["ระดับชั้น"] == stayed["ระดับชั้น"]
    assert gone["ชื่อผู้ปกครอง"] == gone["โทรศัพท์ผู้ปกครอง"] == gone["ที่อยู่ปัจจุบัน"] == ""
    assert gone["น้ำหนัก (กก.)"] == ""
    assert stayed["ชื่อผู้ปกครอง"] == "นางมาลี ศรีสุข"


def test_xlsx_with_a_real_formula_cell_is_refused(app, tree):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(row(1)[:3] + ["=A1&\"x\""] + row(1)[4:])
    out = io.BytesIO()
    book.save(out)
    result = run(tree.a.school_user, tree.a.school, out.getvalue())
    assert [(p.line, p.column) for p in result.problems] == [(2, "นามสกุล")]


def test_a_formula_in_the_disadvantaged_column_is_refused_not_counted(app, tree):
    """Any text there names a kind of disadvantage; a formula is no kind, whatever it gives."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER + ["ด้อยโอกาส"])
    sheet.append(row(1) + ['=IF(A2="","มี","ไม่มี")'])
    out = io.BytesIO()
    book.save(out)
    result = run(tree.a.school_user, tree.a.school, out.getvalue())
    assert [(p.line, p.column) for p in result.problems] == [(2, "ด้อยโอกาส")]
    assert learner_count() == 0


def test_a_confirmed_institution_cannot_import(app, tree, browser):
    from models import Round
    from rules import confirmation

    first, last = windows.round_date_bounds(YEAR)
    round_ = Round(academic_year=YEAR, number=1, opens_on=first, closes_on=last,
                   institution_deadline=last, lao_deadline=last, province_deadline=last)
    db.session.add(round_)
    db.session.commit()
    with acting_as(tree.a.school_user):
        confirmation.confirm_institution(db.session, round_, tree.a.school)
    db.session.commit()
    result = run(tree.a.school_user, tree.a.school, csv_bytes([row(1), row(2)]))
    assert not result.ok and result.problems[0].line is None  # a rule about the whole unit
    assert learner_count() == 0
    # The preview says the problem is the whole import's, not "in 0 rows".
    page = upload(browser(tree.a.school_user), csv_bytes([row(1), row(2)])).get_data(
        as_text=True)
    assert "พบปัญหา 1 รายการ ซึ่งเป็นปัญหาของการนำเข้าทั้งไฟล์" in page
    assert "ใน 0 แถว" not in page
    # With a bad row too, both are told.
    page = upload(browser(tree.a.school_user), csv_bytes([row(1), row(2, grade="Z9")])
                  ).get_data(as_text=True)
    assert "พบปัญหา 2 รายการ ใน 1 แถว และที่เป็นปัญหาของการนำเข้าทั้งไฟล์" in page
    # The import page says so before a file is chosen.
    page = browser(tree.a.school_user).get(f"/admin/import/?year={YEAR}").get_data(as_text=True)
    assert 'class="alert alert-warning"' in page and "ยกเลิกการยืนยันข้อมูล" in page
    page = browser(tree.a.school_user).get(f"/admin/import/?year={YEAR - 1}").get_data(
        as_text=True)
    assert "ยกเลิกการยืนยันข้อมูล" not in page  # another year is not under it


@pytest.mark.parametrize("birth", ["", "-", None])
def test_a_new_learner_without_a_birth_date_is_imported(app, tree, browser, birth):
    """Birth date is optional (DMC writes "-"); None: the file has no birth date column."""
    header, rows = HEADER, [row(1), row(2, birth=birth or "")]
    if birth is None:
        at = HEADER.index("วันเกิด")
        header, rows = HEADER[:at] + HEADER[at + 1:], [r[:at] + r[at + 1:] for r in rows]
    response = upload_and_confirm(browser(tree.a.school_user), csv_bytes(rows, header=header))
    assert response.status_code == 200, response.get_data(as_text=True)
    births = dict(db.session.execute(select(Learner.national_id, Learner.birth_date)).all())
    assert births == {nid(1): BORN if birth is not None else None, nid(2): None}


SUBDISTRICT = "รหัสตำบลตามทะเบียนบ้าน"


def test_an_unknown_subdistrict_code_is_reported_on_its_line_in_one_query(app, tree):
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    data = csv_bytes([row(1) + ["330101"], row(2) + ["999999"], row(3) + ["330102"],
                      row(4) + ["330101"]], header=HEADER + [SUBDISTRICT])
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with app.test_request_context():
            result = run(tree.a.school_user, tree.a.school, data)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [(p.line, p.column) for p in result.problems] == [(3, SUBDISTRICT)]
    assert "999999" in result.problems[0].reason and "ตำบล" in result.problems[0].reason
    assert "ในเวลาเดียวกัน" not in result.problems[0].reason
    assert len([s for s in statements if "FROM subdistrict" in s]) == 1
    assert learner_count() == 0
    data = csv_bytes([row(1) + ["330101"]], header=HEADER + [SUBDISTRICT])
    assert run(tree.a.school_user, tree.a.school, data).ok
    assert db.session.scalar(select(Learner.registered_subdistrict_code)) == "330101"


def test_a_database_refusal_that_is_no_race_is_not_called_one(app, tree, monkeypatch):
    """Were a check ever to miss a bad code, the foreign key refuses the write: say so."""
    monkeypatch.setattr(importer.learner_bulk, "unknown_subdistricts", lambda *a: set())
    data = csv_bytes([row(1) + ["999999"]], header=HEADER + [SUBDISTRICT])
    with app.test_request_context():
        result = run(tree.a.school_user, tree.a.school, data)
    assert [p.line for p in result.problems] == [None] and not result.written
    assert "ในเวลาเดียวกัน" not in result.problems[0].reason
    assert "ฐานข้อมูล" in result.problems[0].reason
    assert learner_count() == 0


def test_the_cycle_collector_is_off_while_any_import_runs_and_on_after_the_last(app, tree):
    seen: list[bool] = []
    with acting_as(tree.a.school_user):
        result = importer.import_learners(db.session, csv_bytes([row(1)]), tree.a.school, YEAR,
                                          progress=lambda *_: seen.append(gc.isenabled()))
    assert result.written and seen and not any(seen)
    assert gc.isenabled()
    # Two imports of one worker's threads overlap, and the one that ends last fails.
    with pytest.raises(RuntimeError), importer._collector.paused():
        with importer._collector.paused():
            pass
        assert not gc.isenabled()  # the other still runs
        raise RuntimeError
    assert gc.isenabled()


@pytest.mark.postgresql_only
def test_the_copies_plan_their_key_checks_once_and_the_connection_forgets_it(
        app, tree, monkeypatch):
    """Each row's foreign-key check is one statement: planned once per file, not per row; the
    pages' own setting (app.POSTGRESQL_SESSION) is back once the import is committed."""
    insert, seen = importer.learner_bulk._insert, []

    def watched(session, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(session.scalar(text("SHOW plan_cache_mode")))
        return insert(session, *args, **kwargs)

    monkeypatch.setattr(importer.learner_bulk, "_insert", watched)
    assert run(tree.a.school_user, tree.a.school, csv_bytes([row(1), row(2)])).written
    assert seen == ["auto"] * 3  # learners, enrolments, audit entries
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"


def test_abbreviated_titles_are_stored_as_the_learner_form_offers_them(app, tree, browser):
    titles = {1: ("ด.ช.", "เด็กชาย"), 2: ("ดญ.", "เด็กหญิง"), 3: ("น.ส.", "นางสาว"),
              4: ("นาย", "นาย"), 5: ("เด็กชาย", "เด็กชาย"), 6: ("ด.ญ", "เด็กหญิง")}
    genders = {"เด็กชาย": "ชาย", "นาย": "ชาย", "เด็กหญิง": "หญิง", "นางสาว": "หญิง"}
    school = browser(tree.a.school_user)
    response = upload_and_confirm(school, csv_bytes(
        [row(n, title=typed, gender=genders[kept]) for n, (typed, kept) in titles.items()]))
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = dict(db.session.execute(select(Learner.national_id, Learner.title)).all())
    assert stored == {nid(n): kept for n, (_typed, kept) in titles.items()}
    learner = db.session.scalar(select(Learner).where(Learner.national_id == nid(3)))
    form = school.get(f"/admin/learner/edit/?id={learner.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="นางสาว">|<option value="นางสาว" selected', form)


def test_an_unknown_title_is_reported_on_its_line(app, tree):
    data = csv_bytes([row(1), row(2, title="นาง", gender="หญิง")])
    with app.test_request_context():
        result = run(tree.a.school_user, tree.a.school, data)
    assert [(p.line, p.column) for p in result.problems] == [(3, "คำนำหน้าชื่อ")]
    assert "นาง" in result.problems[0].reason and "นางสาว" in result.problems[0].reason
    assert learner_count() == 0


def test_an_international_phone_is_imported_as_the_form_keeps_it(app, tree):
    header = HEADER + ["โทรศัพท์ผู้ปกครอง", "ชื่อผู้ปกครอง"]
    data = csv_bytes([row(1) + ["+66812345678", "นาง ก"], row(2) + ["+66 81 234 5678", "นาง ข"]],
                     header=header)
    assert run(tree.a.school_user, tree.a.school, data).ok
    phones = dict(db.session.execute(select(Learner.national_id, Learner.guardian_phone)).all())
    assert phones == {nid(1): "+66812345678", nid(2): "+66 81 234 5678"}
    formula = csv_bytes([row(3) + ["+66812345678", "=HYPERLINK(\"http://x\")"],
                         row(4) + ["+66=1+1", "นาง ค"]], header=header)
    with app.test_request_context():
        result = run(tree.a.school_user, tree.a.school, formula)
    assert [(p.line, p.column) for p in result.problems] == [(2, "ชื่อผู้ปกครอง"),
                                                              (3, "โทรศัพท์ผู้ปกครอง")]
    assert all("สูตร" in p.reason for p in result.problems)


@pytest.mark.parametrize("weight,words", [("-5", "น้ำหนัก"), ("0", "น้ำหนัก"),
                                          ("2205", "ตั้งแต่ 1 ถึง 300"),
                                          ("nan", "ไม่ใช่ตัวเลข"), ("abc", "ไม่ใช่ตัวเลข")])
def test_a_weight_that_is_no_positive_number_gets_its_own_message(app, tree, weight, words):
    data = csv_bytes([row(1) + [weight]], header=HEADER + ["น้ำหนัก"])
    with app.test_request_context():
        result = run(tree.a.school_user, tree.a.school, data)
    assert [(p.line, p.column) for p in result.problems] == [(2, "น้ำหนัก")]
    assert words in result.problems[0].reason and "สูตร" not in result.problems[0].reason
    assert learner_count() == 0


def test_a_title_that_contradicts_the_gender_is_a_warning_not_a_refusal(app, tree, browser):
    school = browser(tree.a.school_user)
    data = csv_bytes([row(1), row(2, title="เด็กชาย", gender="หญิง")])
    page = upload(school, data).get_data(as_text=True)
    warnings = page[page.index('id="import-warnings"'):]
    assert "บรรทัดที่ 3" in warnings and "เด็กชาย" in warnings and "บรรทัดที่ 2" not in warnings
    assert upload_and_confirm(school, data).status_code == 200
    assert db.session.scalar(select(Learner.gender).where(Learner.national_id == nid(2))) == "F"


def test_an_unusual_age_for_the_grade_is_a_line_to_check(app, tree, browser):
    """A 7-year-old in M6 imported without a word, where the enrolment form asks."""
    school = browser(tree.a.school_user)
    data = csv_bytes([row(1), row(2, grade="M6")])
    page = upload(school, data).get_data(as_text=True)
    warnings = page[page.index('id="import-warnings"'):]
    assert "บรรทัดที่ 3" in warnings and "ซึ่งผิดปกติสำหรับระดับชั้น ม.๖" in warnings
    assert "บรรทัดที่ 2" not in warnings
    assert upload_and_confirm(school, data).status_code == 200 and learner_count() == 2


def test_invisible_control_characters_are_dropped_and_the_learner_stays_editable(
        app, tree, browser):
    rows = [row(n) for n in range(1, 80)] + [row(80, first="สม\x00ใจ\x07", last="ดี\x1b")]
    data = csv_bytes(rows)
    assert len(data) > 4096 and b"\x00" not in data[:4096]
    school = browser(tree.a.school_user)
    assert upload_and_confirm(school, data).status_code == 200
    learner = db.session.scalar(select(Learner).where(Learner.national_id == nid(80)))
    assert (learner.first_name, learner.last_name) == ("สมใจ", "ดี")
    page = school.get(f"/admin/learner/edit/?id={learner.id}")
    assert page.status_code == 200 and "สมใจ" in page.get_data(as_text=True)


# --- a learner the institution removed as non-existent (a ghost) ------------------------------

REMOVED_HERE = "นำข้อมูลผู้เรียนคนนี้ออกจากระบบเพราะไม่มีตัวตน"


def _remove(browser_of_school, national_id: str, year: int = YEAR) -> None:
    """Remove the learner's enrolment of `year` on the removal page, as never having come."""
    enrolment = db.session.scalar(select(Enrolment).join(Learner).where(
        Learner.national_id == national_id, Enrolment.academic_year == year))
    response = browser_of_school.post(f"/admin/student/remove/{enrolment.id}/",
                                      data={"reason": "never_came"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()


def _enrolments() -> list[tuple]:
    return list(db.session.execute(
        select(Learner.national_id, Enrolment.institution_id, Enrolment.academic_year,
               Enrolment.status).join(Enrolment).order_by(Learner.national_id, Enrolment.id)))


def run_for(user, institution, data: bytes, year: int) -> importer.Result:
    with acting_as(user):
        result = importer.import_learners(db.session, data, institution, year)
        db.session.commit()
    return result


def test_reimporting_the_file_does_not_bring_back_a_learner_removed_as_non_existent(
        app, tree, browser):
    school = browser(tree.a.school_user)
    data = csv_bytes([row(1), row(2)])
    assert upload_and_confirm(school, data).status_code == 200
    _remove(school, nid(1))
    before = _enrolments()
    assert [s for *_, s in before] == ["removed", "active"]
    page = upload(school, data)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    problems = html[html.index('id="import-problems"'):]
    line = re.search(r"<tr><td>2</td><td>เลขประจำตัวประชาชน</td><td>([^<]*)</td></tr>", problems)
    assert line is not None, problems
    assert REMOVED_HERE in line.group(1) and f"ปีการศึกษา {YEAR}" in line.group(1)
    assert "มาสมัครแล้วไม่มาเรียน" in line.group(1)  # why: the reason chosen on removal
    assert "ตรวจสอบและบันทึกผู้เรียน" in line.group(1)  # what to do instead
    assert "<td>3</td>" not in problems  # the other learner is fine
    assert 'action="/admin/import/commit/' not in html  # nothing to confirm
    assert _enrolments() == before
    with app.test_request_context():
        result = run(tree.a.school_user, tree.a.school, data)
    assert [(p.line, p.column) for p in result.problems] == [(2, "เลขประจำตัวประชาชน")]
    assert not result.written and _enrolments() == before


def test_a_file_of_another_year_does_not_bring_back_a_removed_learner_either(app, tree, browser):
    school = browser(tree.a.school_user)
    data = csv_bytes([row(1)])
    assert run(tree.a.school_user, tree.a.school, data).ok
    _remove(school, nid(1))
    before = _enrolments()
    with app.test_request_context():
        result = run_for(tree.a.school_user, tree.a.school, data, YEAR + 1)
    assert [(p.line, p.column) for p in result.problems] == [(2, "เลขประจำตัวประชาชน")]
    assert REMOVED_HERE in result.problems[0].reason
    assert f"ปีการศึกษา {YEAR}" in result.problems[0].reason
    assert result.new_rows == 0 and not result.written
    assert _enrolments() == before


def test_a_person_can_still_enrol_a_removed_learner_and_then_the_file_works_again(
        app, tree, browser):
    from rules.enrolment import current_academic_year

    year = current_academic_year(db.session)  # the year the enrol page enrols into
    school = browser(tree.a.school_user)
    data = csv_bytes([row(1)])
    assert run_for(tree.a.school_user, tree.a.school, data, year).ok
    _remove(school, nid(1), year)
    response = school.post(f"/admin/student/enrol/?national_id={nid(1)}", data={
        "national_id": nid(1), "title": "เด็กชาย", "first_name": "สมชายข", "last_name": "ใจดี",
        "gender": "M", "birth_date": "", "grade": "P1", "classroom": "1/1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [(y, s) for _n, _i, y, s in _enrolments()] == [(year, "removed"), (year, "active")]
    again = run_for(tree.a.school_user, tree.a.school, data, year)
    assert again.ok and again.written and again.new_rows == 0  # the person's enrolment, updated


def test_a_learner_removed_at_another_institution_is_imported(app, tree, browser):
    data = csv_bytes([row(7)])
    assert run(tree.b.school_user, tree.b.school, data).ok
    _remove(browser(tree.b.school_user), nid(7))
    result = run(tree.a.school_user, tree.a.school, data)
    assert result.ok and result.written and result.enrolled == 1
    assert _enrolments() == [(nid(7), tree.b.school.id, YEAR, "removed"),
                             (nid(7), tree.a.school.id, YEAR, "active")]


def test_only_the_latest_enrolment_here_up_to_the_year_decides(app, tree, browser):
    """Removed in YEAR, then enrolled again by a person in YEAR + 1: the person decided the
    learner exists, so no file year is refused; a year before the removal never was."""
    from rules.enrolment import removed_here

    assert run(tree.a.school_user, tree.a.school, csv_bytes([row(1)])).ok
    _remove(browser(tree.a.school_user), nid(1))
    learner = db.session.scalar(select(Learner))
    school = tree.a.school.id
    assert set(removed_here(db.session, school, YEAR, [learner.id])) == {learner.id}
    assert removed_here(db.session, school, YEAR - 1, [learner.id]) == {}
    assert removed_here(db.session, tree.b.school.id, YEAR, [learner.id]) == {}
    with acting_as(None):
        db.session.add(Enrolment(learner=learner, institution=tree.a.school,
                                 academic_year=YEAR + 1, grade="P2", status="active"))
        db.session.commit()
    for year in (YEAR, YEAR + 1, YEAR + 2):
        assert removed_here(db.session, school, year, [learner.id]) == {}


def test_an_enrolment_date_after_the_academic_year_is_refused_under_its_column(app, tree,
                                                                               browser):
    """A file's enrolment date three years ahead (a slipped BE year) was imported as it was."""
    school = browser(tree.a.school_user)
    header = [*HEADER, "วันที่เข้าเรียน"]
    page = upload(school, csv_bytes([[*row(1), f"16/05/{YEAR}"], [*row(2), f"16/05/{YEAR + 3}"]],
                                    header=header))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert f"วันที่เข้าเรียน 16/05/{YEAR + 3} อยู่หลังวันสิ้นปีการศึกษา {YEAR}" in html
    assert learner_count() == 0


def test_the_previews_rows_in_the_file_count_the_rows_not_studying_too(app, tree, browser):
    """A file of three learners, one of them withdrawn, said "rows in the file: 2" above
    "new: 2" and "not imported (not studying): 1", counts that did not add up."""
    header = [*HEADER, "สภาพนักเรียน"]
    data = csv_bytes([[*row(1), "กำลังศึกษา"], [*row(2), "กำลังศึกษา"], [*row(3), "จำหน่าย"]],
                     header=header)
    page = upload(browser(tree.a.school_user), data).get_data(as_text=True)
    counts = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]+)</td></tr>", page))
    assert counts["จำนวนแถวในไฟล์"] == "3"
    assert counts["เพิ่มใหม่"] == "2" and counts["ไม่นำเข้า (ไม่ได้กำลังศึกษา)"] == "1"


def test_a_file_with_no_learner_to_import_says_so_and_offers_no_confirm(app, tree, browser):
    """A header row alone, or rows none of whom is studying, was offered for import: a confirm
    button over "new: 0", which wrote nothing and said it had imported the file."""
    school = browser(tree.a.school_user)
    page = upload(school, csv_bytes([])).get_data(as_text=True)
    assert "ไม่มีรายชื่อนักเรียนหรือเด็กเล็ก" in page and "/admin/import/commit/" not in page
    header = [*HEADER, "สภาพนักเรียน"]
    result = run(tree.a.school_user, tree.a.school,
                 csv_bytes([[*row(1), "จำหน่าย"], [*row(2), "จบ"]], header=header))
    assert not result.ok and "2" in result.problems[0].reason and learner_count() == 0
