"""Risk flags: plant each ghost pattern in a small clean tree and find exactly the planted rows."""

from datetime import UTC, date, datetime
from itertools import count
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select

import clock
from models import (
    CentreBasicData,
    Enrolment,
    Institution,
    Learner,
    OtherSchoolCount,
    Round,
    db,
)
from models.people import GRADE_AGE
from models.risk import ObecCount, RiskFlag, RiskThreshold
from models.rounds import SpotCheck
from rules import confirmation, quality, risk, windows
from rules.identity import check_digit
from seed.learners import letters

YEAR = 2569
_numbers = count(1)


def national_id(prefix: str = "1") -> str:
    if prefix == "G":
        return f"G6733{next(_numbers):08d}"  # year 2566, province 33 (digits 3-4 name a province)
    first12 = f"{prefix}{next(_numbers):011d}"
    return first12 + str(check_digit(first12))


def born_for(grade: str, year: int = YEAR) -> date:
    """A birth date giving the usual age of `grade` on 16 May of `year`."""
    return date(year - 543 - GRADE_AGE[grade] - 1, 12, 1)


def learner(institution: Institution, grade: str = "P1", year: int = YEAR, **fields: object
            ) -> Enrolment:
    n = next(_numbers)
    values = {"national_id": national_id(), "first_name": f"ชื่อ{letters(n)}",
              "last_name": f"สกุล{letters(n)}",
              "gender": "M" if n % 2 else "F", "birth_date": born_for(grade, year),
              "guardian_name": f"ผู้ปกครอง{n}", "guardian_phone": f"08{n:08d}",
              "current_address": "หมู่ 1"}
    enrolled_on = fields.pop("enrolled_on", date(2026, 5, 16))
    values.update(fields)
    enrolment = Enrolment(learner=Learner(**values), institution=institution,
                          academic_year=year, grade=grade, enrolled_on=enrolled_on)
    db.session.add(enrolment)
    return enrolment


def make_round(year: int, number: int = 1) -> Round:
    first, last = windows.round_date_bounds(year)
    round_ = Round(academic_year=year, number=number, opens_on=first, closes_on=last,
                   institution_deadline=date(year - 543, 6, 10), lao_deadline=last,
                   province_deadline=last)
    db.session.add(round_)
    return round_


@pytest.fixture
def clean(tree, monkeypatch) -> SimpleNamespace:  # noqa: ANN001
    """Two provinces of plausible data, with a confirmed past year and past other counts, on
    1 June 2026: before the count date of round 2569/1."""
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 6, 1, 3, 0, tzinfo=UTC))
    past, now = make_round(YEAR - 1), make_round(YEAR)
    for unit in (tree.a, tree.b):
        for _ in range(12):
            e = learner(unit.school, "P2")
            db.session.add(Enrolment(learner=e.learner, institution=unit.school,
                                     academic_year=YEAR - 1, grade="P1"))
        for _ in range(5):
            learner(unit.cdc, "A3")
        db.session.add(CentreBasicData(institution=unit.cdc, teachers=1, caretakers=1,
                                       classrooms=1))
        for round_ in (past, now):
            db.session.add(OtherSchoolCount(round=round_, other_school=unit.other, grade="P1",
                                            boys=20, girls=20))
    db.session.commit()
    for unit in (tree.a, tree.b):
        confirmation.confirm_institution(db.session, past, unit.school)
    db.session.commit()
    return SimpleNamespace(tree=tree, round=now, past=past)


def stored(round_: Round, key: str, institution_ids: list[int] | None = None) -> list[int]:
    """Run the checks as the page's button does; the enrolments one rule flagged, stored."""
    db.session.commit()
    risk.compute(db.session, round_, institution_ids)
    db.session.commit()
    return sorted(db.session.scalars(select(RiskFlag.enrolment_id).where(RiskFlag.rule == key)))


def found(round_: Round, key: str) -> list[dict]:
    return [row for row, _ in risk.find(db.session, round_, key)]


def test_a_clean_tree_raises_no_flag(clean) -> None:  # noqa: ANN001
    for key in risk.RULES:
        assert found(clean.round, key) == [], key


def test_each_planted_learner_pattern_is_found_exactly(clean) -> None:  # noqa: ANN001
    a, b = clean.tree.a, clean.tree.b
    no_phone = learner(a.school, "P2", guardian_phone="", birth_date=None)
    same_phone = [learner(inst, "P2", guardian_phone="081-111 2222")
                  for inst in (a.school, a.school, a.school, b.school, b.school)]
    twin = learner(b.school, "P2", first_name="สมหญิง", last_name="ซ้ำชื่อ",
                   birth_date=date(2018, 3, 3))
    twin2 = learner(a.school, "P2", first_name="สมหญิง", last_name="ซ้ำชื่อ",
                    birth_date=date(2018, 3, 3))
    too_old = learner(a.school, "P2", birth_date=date(2010, 1, 1))
    late = learner(b.school, "P2", enrolled_on=date(2026, 6, 11))
    db.session.commit()

    def enrolments(key: str) -> set[int]:
        return {row["enrolment_id"] for row in found(clean.round, key)}

    assert enrolments("incomplete") == {no_phone.id}
    assert enrolments("shared_phone") == {e.id for e in same_phone}
    assert enrolments("same_person") == {twin.id, twin2.id}
    assert enrolments("age_grade") == {too_old.id}
    assert enrolments("late_enrolment") == {late.id}
    (_, reason), *_ = risk.find(db.session, clean.round, "shared_phone")
    assert "0811112222" in reason and "5" in reason
    (row, reason), = risk.find(db.session, clean.round, "age_grade")
    assert "16" in reason and str(GRADE_AGE["P2"]) in reason


def test_one_child_under_two_ids_at_one_school_is_flagged_but_twins_are_not(clean, browser
                                                                           ) -> None:  # noqa: ANN001
    a = clean.tree.a
    born = date(2022, 5, 27)  # 27/05/2565
    first = learner(a.school, "K1", national_id="1331200002151", title="เด็กหญิง",
                    first_name="จิราพร", last_name="ดวงจันทร์", birth_date=born)
    again = learner(a.school, "K1", national_id="G693300000001", title="เด็กหญิง",
                    first_name="จิราพร", last_name="ดวงจันทร์", birth_date=born)
    for name in ("ธนกร", "ธนพร"):  # twins: one surname and birth date, two first names
        learner(a.school, "K1", first_name=name, last_name="แฝดกัน", birth_date=born)
    assert stored(clean.round, "same_person") == sorted([first.id, again.id])
    html = browser(a.school_user).get(f"/admin/risk/?round={clean.round.id}&rule=same_person"
                                      ).get_data(as_text=True)
    assert html.count("จิราพร ดวงจันทร์ ซึ่งมีวันเกิดเดียวกัน มีรายชื่อ 2 ครั้ง"
                      "ในสถานศึกษานี้ ด้วยเลขประจำตัวประชาชนต่างกัน") == 2
    assert "แฝดกัน" not in html


def test_a_subdistrict_code_is_an_address_even_without_the_house_line(clean, browser
                                                                      ) -> None:  # noqa: ANN001
    a = clean.tree.a
    learner(a.school, "P2", current_address="", registered_subdistrict_code="330101")
    learner(a.school, "P2", current_address=None, current_subdistrict_code="330101")
    nowhere = learner(a.school, "P2", first_name="ไร้ที่อยู่", current_address="")
    assert stored(clean.round, "incomplete") == [nowhere.id]
    html = browser(a.school_user).get(f"/admin/risk/?round={clean.round.id}&rule=incomplete"
                                      ).get_data(as_text=True)
    assert html.count("ข้อมูลยังขาด: ที่อยู่") == 1 and "ไร้ที่อยู่" in html


def test_each_planted_unit_pattern_is_found_exactly(clean) -> None:  # noqa: ANN001
    a, b = clean.tree.a, clean.tree.b
    for _ in range(10):  # 12 confirmed last year, 22 now
        learner(a.school, "P2")
    for _ in range(8):  # a G-code share of 8/20 against a province share well below
        learner(b.school, "P2", national_id=national_id("G"))
    db.session.get(CentreBasicData, db.session.scalars(select(CentreBasicData.id).where(
        CentreBasicData.institution_id == a.cdc.id)).one()).classrooms = 0
    db.session.scalars(select(OtherSchoolCount).where(
        OtherSchoolCount.round_id == clean.round.id,
        OtherSchoolCount.other_school_id == b.other.id)).one().boys = 60
    db.session.commit()

    def units(key: str) -> set[int | None]:
        return {row["institution_id"] or row["other_school_id"] for row in found(clean.round, key)}

    assert units("count_jump") == {a.school.id}
    assert units("g_code_share") == set()  # alone in its province: its own share is the peer's
    assert units("centre_no_staff") == {a.cdc.id}
    assert units("other_school_jump") == {b.other.id}
    (_, reason), = risk.find(db.session, clean.round, "count_jump")
    assert "22" in reason and "12" in reason


def test_g_code_share_against_the_province(clean) -> None:  # noqa: ANN001
    b = clean.tree.b
    other = Institution(code="3034200002", name="โรงเรียนเทศบาล ข ๒", kind="school",
                        lao=b.muni)
    db.session.add(other)
    for _ in range(60):
        learner(other, "P2")
    for _ in range(8):
        learner(b.school, "P2", national_id=national_id("G"))
    db.session.commit()
    rows = found(clean.round, "g_code_share")
    assert [r["institution_id"] for r in rows] == [b.school.id]
    (_, reason), = risk.find(db.session, clean.round, "g_code_share")
    assert "40%" in reason


def test_thresholds_are_the_departments_per_year(clean) -> None:  # noqa: ANN001
    a = clean.tree.a
    for _ in range(3):
        learner(a.school, "P2", guardian_phone="0800000000")
    db.session.commit()
    assert found(clean.round, "shared_phone") == []
    db.session.add(RiskThreshold(academic_year=YEAR, setting="shared_phone.learners", value=3))
    db.session.commit()
    assert len(found(clean.round, "shared_phone")) == 3
    assert risk.seed_thresholds(db.session, YEAR) == len(risk.DEFAULTS) - 1


def test_compute_stores_every_flag_and_recomputes_one_institution(clean) -> None:  # noqa: ANN001
    a, b = clean.tree.a, clean.tree.b
    bad_a = learner(a.school, "P2", birth_date=None)
    bad_b = learner(b.school, "P2", birth_date=None)
    assert stored(clean.round, "incomplete") == sorted([bad_a.id, bad_b.id])
    bad_a.learner.birth_date = born_for("P2")
    assert stored(clean.round, "incomplete", [a.school.id]) == [bad_b.id]


def scored(round_: Round, institution: Institution) -> dict:
    risk.compute(db.session, round_)
    quality.compute(db.session, round_)
    db.session.commit()
    return quality.totals(db.session, round_, "institution_id")[institution.id]


def test_the_score_drops_with_each_planted_problem_and_says_why(clean) -> None:  # noqa: ANN001
    a = clean.tree.a
    assert scored(clean.round, a.school)["score"] == 100
    steps = [
        (lambda: learner(a.school, "P2", birth_date=None), "completeness", "ขาดข้อมูลสำคัญ"),
        (lambda: learner(a.school, "P2", birth_date=date(2005, 1, 1)), "validity", "อายุห่าง"),
        (lambda: [learner(a.school, "P2", guardian_phone="0899999999") for _ in range(5)],
         "consistency", "โทรศัพท์ผู้ปกครองซ้ำ"),
        (lambda: [learner(a.school, "P2") for _ in range(6)], "counts", "จำนวนเปลี่ยนแปลงผิดปกติ"),
    ]
    last = 100.0
    for plant, part, words in steps:
        plant()
        db.session.commit()
        counts = scored(clean.round, a.school)
        assert counts["score"] < last, part
        assert quality.score(counts) == pytest.approx(counts["score"], abs=0.1)
        (why,) = [d for d in quality.deductions(counts) if d.part.key == part]
        assert words in why.reason and why.points > 0
        last = counts["score"]
    # The LAO's and province's score: the same formula over the sums, one query each.
    lao = quality.totals(db.session, clean.round, "lao_id")[a.muni.id]
    assert lao["score"] == pytest.approx(last, abs=0.1)
    province = quality.totals(db.session, clean.round, "province_code")["33"]
    assert last < province["score"] < 100


def test_a_late_confirmation_and_a_failed_spot_check_cost_points(clean, monkeypatch
                                                                  ) -> None:  # noqa: ANN001
    from models import SpotCheck, SpotCheckItem

    a = clean.tree.a
    # 11 June 2026 in Bangkok: the deadline (10 June) has passed and nothing is confirmed.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 6, 10, 17, 0, tzinfo=UTC))
    counts = scored(clean.round, a.school)
    assert [d.part.key for d in quality.deductions(counts)] == ["timeliness"]
    enrolment = db.session.scalars(select(Enrolment).where(
        Enrolment.institution_id == a.school.id, Enrolment.academic_year == YEAR)).first()
    check = SpotCheck(round_id=clean.round.id, province_code="33", lao_id=a.muni.id, seed=1,
                      sample_size=2, drawn_at=clock.now(), drawn_by="33")
    db.session.add(check)
    db.session.flush()
    db.session.add_all([
        SpotCheckItem(spot_check_id=check.id, position=1, learner_id=enrolment.learner_id,
                      institution_id=a.school.id, outcome="not_found"),
        SpotCheckItem(spot_check_id=check.id, position=2, learner_id=enrolment.learner_id,
                      institution_id=a.school.id, outcome="found")])
    db.session.commit()
    counts = scored(clean.round, a.school)
    (spot,) = [d for d in quality.deductions(counts) if d.part.key == "spot_checks"]
    assert spot.points == 7.5 and "1 จาก 2" in spot.reason


def test_the_flag_page_lists_reasons_in_scope(clean, browser) -> None:  # noqa: ANN001
    a, b = clean.tree.a, clean.tree.b
    learner(a.school, "P2", birth_date=None, first_name="ขาดวันเกิด")
    learner(b.school, "P2", birth_date=None, first_name="จังหวัดอื่น")
    db.session.commit()
    risk.compute(db.session, clean.round)
    db.session.commit()
    page = browser(a.province_user).get(f"/admin/risk/?round={clean.round.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "ขาดวันเกิด" in html and "จังหวัดอื่น" not in html
    assert 'class="btn btn-link btn-sm p-0 lec-reveal' in html  # the masked ID can be revealed
    other = browser(a.province_user).get(f"/admin/risk/?round={clean.round.id}"
                                         f"&institution={b.school.id}")
    assert other.status_code == 404
    school = browser(a.school_user)
    school_page = school.get(f"/admin/risk/?round={clean.round.id}").get_data(as_text=True)
    assert "ขาดวันเกิด" in school_page and "lec-reveal d-print-none" not in school_page
    response = school.post(f"/admin/risk/compute/{clean.round.id}")
    assert response.status_code == 302


def test_a_shared_guardian_phone_shows_whole_only_to_the_institution(clean, browser
                                                                   ) -> None:  # noqa: ANN001
    """The flag still says how many learners share the phone and lists each of them; the LAO
    and province read the phone masked, as on the learner's page, the school reads it whole."""
    a = clean.tree.a
    for n in range(5):
        learner(a.school, "P2", guardian_phone="081-111 2222", first_name=f"ร่วมเบอร์{letters(n)}")
    db.session.commit()
    risk.compute(db.session, clean.round)
    db.session.commit()
    path = f"/admin/risk/?round={clean.round.id}&rule=shared_phone"
    for user in (a.muni_user, a.province_user, clean.tree.department):
        html = browser(user).get(path).get_data(as_text=True)
        assert all(f"ร่วมเบอร์{letters(n)}" in html for n in range(5)), user.login
        assert html.count("xxx-xxx-xx22") == 5 and "ผู้เรียน 5 คน" in html, user.login
        assert "0811112222" not in html and "081-111 2222" not in html, user.login
    school = browser(a.school_user).get(path).get_data(as_text=True)
    assert school.count("0811112222") == 5 and "xxx-xxx-xx22" not in school
    assert all(f"ร่วมเบอร์{letters(n)}" in school for n in range(5))


def test_the_flag_page_says_not_checked_yet_until_the_first_check(clean, browser
                                                                  ) -> None:  # noqa: ANN001
    school = browser(clean.tree.a.school_user)
    url = f"/admin/risk/?round={clean.round.id}"
    html = school.get(url).get_data(as_text=True)
    assert "ยังไม่ได้ตรวจ กดปุ่ม “ตรวจข้อมูลอีกครั้งตอนนี้”" in html
    assert "ไม่พบข้อมูลที่ควรตรวจสอบ" not in html and "ตรวจเมื่อวันที่" not in html
    assert school.post(f"/admin/risk/compute/{clean.round.id}").status_code == 302
    html = school.get(url).get_data(as_text=True)
    assert "ตรวจเมื่อวันที่ 1 มิ.ย. 2569 10:00" in html  # 03:00 UTC, in Bangkok time
    assert "ไม่พบข้อมูลที่ควรตรวจสอบ" in html and "ยังไม่ได้ตรวจ" not in html


def test_the_institution_sees_its_score_and_why_before_it_confirms(clean, browser
                                                                    ) -> None:  # noqa: ANN001
    a = clean.tree.a
    learner(a.school, "P2", birth_date=None)
    db.session.commit()
    scored(clean.round, a.school)
    html = browser(a.school_user).get(f"/admin/confirmation/?round={clean.round.id}"
                                      ).get_data(as_text=True)
    assert "ขาดข้อมูลสำคัญ" in html  # the completeness deduction, in Thai
    assert f"/admin/risk/?round={clean.round.id}&amp;institution={a.school.id}&amp;part=" \
           "completeness" in html


def test_progress_pages_sort_by_score_in_constant_statements(clean, browser
                                                             ) -> None:  # noqa: ANN001
    from test_dashboard_queries import counted

    a = clean.tree.a
    lao_page = browser(a.muni_user)
    province_page = browser(a.province_user)

    def statements(page, url: str) -> tuple[int, str]:  # noqa: ANN001
        with counted() as seen:
            html = page.get(url).get_data(as_text=True)
        return len(seen), html

    scored(clean.round, a.school)
    lao_url = f"/admin/confirmation/?round={clean.round.id}&lao={a.muni.id}&sort=score"
    flags_url = f"/admin/risk/?round={clean.round.id}"
    few = statements(lao_page, lao_url)[0], statements(province_page, flags_url)[0]
    for n in range(6):
        school = Institution(code=f"30332{n + 10:05d}", name=f"ร.ร. {n}", kind="school",
                             lao=a.muni)
        db.session.add(school)
        for k in range(n + 6):  # n + 1 of them incomplete: the share grows with n
            learner(school, "P2", birth_date=None if k <= n else born_for("P2"))
    db.session.commit()
    scored(clean.round, a.school)
    many, html = statements(lao_page, lao_url)
    assert many == few[0]
    assert html.rindex("ร.ร. 5") < html.rindex("ร.ร. 0")  # the table: worst score first
    assert statements(province_page, flags_url)[0] == few[1]


def test_an_obec_table_flags_the_one_school_whose_counts_differ(clean, tmp_path, runner
                                                                ) -> None:  # noqa: ANN001
    a, b = clean.tree.a, clean.tree.b
    lines = ["school_id,ชั้น/เพศ,ชาย,หญิง,รวม,ห้องเรียน",
             f"{a.other.code},ป.1,20,20,40,1", f"{a.other.code},รวมประถม,20,20,40,1",
             f"{b.other.code},ป.1,25,20,45,1", f"{b.other.code},ป.2,3,0,3,1",
             f"{b.other.code},ปวช.1,9,9,18,1",
             "ข้อมูล ณ วันที่ 10 มิถุนายน 2569,,,,,"]
    path = tmp_path / "obec.csv"
    path.write_bytes("\n".join(lines).encode("cp874"))
    result = runner.invoke(args=["lec", "load-obec", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == ("นำเข้าจำนวนนักเรียนรายชั้นของ สพฐ. 3 รายการ ณ วันที่ 10 มิ.ย. 2569 "
                             "เรียบร้อยแล้ว\n")
    rows = risk.find(db.session, clean.round, "obec_mismatch")
    assert {row["other_school_id"] for row, _ in rows} == {b.other.id}
    reasons = sorted(reason for _, reason in rows)
    assert "25" in reasons[0] and "20" in reasons[0]  # both numbers, side by side
    assert len(reasons) == 2  # P1 differs; P2 is only in OBEC's table


def test_an_obec_count_date_is_typed_in_the_buddhist_era(clean, tmp_path, runner
                                                       ) -> None:  # noqa: ANN001
    """10/06/2569 as on every screen; a Common-Era year is refused, not taken for 3112 BE."""
    path = tmp_path / "obec.csv"
    path.write_bytes(f"school_id,ชั้น/เพศ,ชาย,หญิง,รวม,ห้องเรียน\n"
                     f"{clean.tree.b.other.code},ป.1,25,20,45,1\n".encode("cp874"))
    for typed in ("12/06/2569", "2569-06-12", "12 มิ.ย. 2569", "2026-06-12"):
        result = runner.invoke(args=["lec", "load-obec", str(path), "--date", typed])
        assert result.exit_code == 0, result.output
        assert "ณ วันที่ 12 มิ.ย. 2569 " in result.output
    assert db.session.scalars(select(ObecCount.count_date).distinct()).all() == [date(2026, 6, 12)]
    result = runner.invoke(args=["lec", "load-obec", str(path), "--date", "13/06/2026"])
    assert result.exit_code == 2
    assert "ข้อผิดพลาด: ค่าของ '--date' ไม่ถูกต้อง: กรุณาใส่ปีเป็นพุทธศักราช (พ.ศ.) เช่น 2569" in result.output
    assert db.session.scalar(select(func.count()).select_from(ObecCount).where(
        ObecCount.count_date == date(2026, 6, 13))) == 0


def test_the_weighted_sample_is_reproducible_and_favours_flagged_learners(clean, browser
                                                                          ) -> None:  # noqa: ANN001
    from rules.spotchecks import sample

    def draw_sample(*args):  # noqa: ANN002, ANN202
        return sample(db.session, *args)

    a = clean.tree.a
    sharing = [learner(a.school, "P2", guardian_phone="0811111111") for _ in range(6)]
    for _ in range(40):
        learner(a.school, "P2")
    db.session.add(RiskThreshold(academic_year=YEAR, setting="weight.shared_phone", value=19))
    db.session.commit()
    flagged = {e.learner_id for e in sharing}
    risk.compute(db.session, clean.round)
    db.session.commit()
    draws = [draw_sample(clean.round, a.muni.id, a.school.id, seed, 6) for seed in range(30)]
    assert draw_sample(clean.round, a.muni.id, a.school.id, 7, 6) == draws[7]
    picked = [row for draw in draws for row in draw]
    share = sum(row[0] in flagged for row in picked) / len(picked)
    assert share > 0.3  # 6 of 58 learners (10%) carry the flag; weight 21 against 2
    heavy = next(row for row in picked if row[0] in flagged)
    # 1 + 19 for the phone + 1 for the school's count jump (12 confirmed last year, 58 now).
    assert heavy[2] == 21 and heavy[3] == ["shared_phone", "count_jump"]

    page = browser(a.province_user)
    page.post(f"/admin/spot_checks/?round={clean.round.id}",
              data={"unit_code": a.school.code, "size": 6, "seed": 7})
    check = db.session.scalars(select(SpotCheck)).one()
    html = page.get(f"/admin/spot_checks/{check.id}").get_data(as_text=True)
    assert "โทรศัพท์ผู้ปกครองเดียวกัน" in html  # the flag behind the weight, in Thai
    assert [i.learner_id for i in check.items] == [row[0] for row in draws[7]]


def test_a_spot_check_names_its_unit_and_explains_a_bad_size(clean, browser
                                                              ) -> None:  # noqa: ANN001
    a = clean.tree.a
    page = browser(a.province_user)
    url = f"/admin/spot_checks/?round={clean.round.id}"
    for size in ("0", "500", "abc"):
        response = page.post(url, data={"unit_code": a.school.code, "size": size, "seed": 7})
        html = response.get_data(as_text=True)
        assert response.status_code == 200, size
        assert "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 200 คน" in html, size
        assert f'value="{a.school.code}"' in html and f'value="{size}"' in html  # kept
    assert db.session.scalars(select(SpotCheck)).all() == []
    page.post(url, data={"unit_code": a.school.code, "size": 3, "seed": 7})
    check = db.session.scalars(select(SpotCheck)).one()
    html = page.get(url).get_data(as_text=True)
    assert f"{a.school.code} {a.school.name}" in html  # which institution was sampled
    assert "<td>1 มิ.ย. 2569 10:00</td><td>33</td>" in html  # the drawer apart from the date
    html = page.get(f"/admin/spot_checks/{check.id}").get_data(as_text=True)
    assert ">บันทึกผล</button>" in html and "รายการ</button>" not in html
    assert "ไม่พบตัวนักเรียนหรือเด็กเล็ก" in html and "ไม่พบข้อมูล" not in html


def test_the_departments_national_recheck_runs_as_a_job(clean, browser) -> None:  # noqa: ANN001
    from models.jobs import Job

    learner(clean.tree.b.school, "P2", birth_date=None)
    db.session.commit()
    response = browser(clean.tree.department).post(f"/admin/risk/compute/{clean.round.id}")
    assert response.status_code == 302 and "/admin/jobs" in response.headers["Location"]
    job = db.session.scalars(select(Job)).one()
    db.session.refresh(job)
    assert job.kind == "risk" and job.status == "done"
    assert db.session.scalars(select(RiskFlag.rule)).all() == ["incomplete"]


def test_a_provinces_recheck_runs_as_a_job_over_its_own_province(clean, browser) -> None:  # noqa: ANN001
    """A province's recompute is seconds of work at national scale: it goes to the job queue,
    and it flags only the province's institutions."""
    from models.jobs import Job

    learner(clean.tree.a.school, "P2", birth_date=None)
    learner(clean.tree.b.school, "P2", birth_date=None)
    db.session.commit()
    response = browser(clean.tree.a.province_user).post(f"/admin/risk/compute/{clean.round.id}")
    assert response.status_code == 302 and "/admin/jobs" in response.headers["Location"]
    job = db.session.scalars(select(Job)).one()
    db.session.refresh(job)
    assert job.kind == "risk" and job.status == "done", job.message
    assert db.session.scalars(select(RiskFlag.institution_id)).all() == [clean.tree.a.school.id]


def test_the_department_uploads_obecs_table(clean, browser) -> None:  # noqa: ANN001
    from io import BytesIO

    from models.risk import ObecCount

    b = clean.tree.b
    data = f"school_id,ชั้น/เพศ,ชาย,หญิง,รวม,ห้องเรียน\n{b.other.code},ป.1,21,20,41,1\n"
    assert browser(b.province_user).get("/admin/risk/obec").status_code == 403
    department = browser(clean.tree.department)
    assert "/admin/risk/obec" in department.get("/admin/risk/").get_data(as_text=True)
    response = department.post("/admin/risk/obec", data={
        "file": (BytesIO(data.encode("utf-8-sig")), "obec.csv"), "count_date": "10/06/2569"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalars(select(ObecCount.boys)).all() == [21]
    rows = risk.find(db.session, clean.round, "obec_mismatch")
    assert [row["other_school_id"] for row, _ in rows] == [b.other.id]


def test_the_risk_page_introduces_its_rows_in_plain_thai(clean, browser) -> None:  # noqa: ANN001
    """It read "…หน่วยที่การตรวจพบว่าผิดปกติ", which no one writes."""
    page = browser(clean.tree.department).get("/admin/risk/").get_data(as_text=True)
    assert ("แต่ละแถวคือข้อมูลหรือหน่วยงานที่ระบบตรวจพบว่าผิดปกติ "
            "ซึ่งอาจถูกต้องก็ได้ แต่ต้องตรวจสอบให้แน่ใจก่อนยืนยันข้อมูล") in page
    assert "การตรวจพบว่า" not in page


def flags_at(round_: Round, institution: Institution) -> set[tuple]:
    """An institution's stored learner flags, as its page lists them."""
    return set(db.session.execute(select(
        RiskFlag.rule, RiskFlag.enrolment_id, RiskFlag.learner_id, RiskFlag.province_code,
        RiskFlag.lao_id, RiskFlag.measure, RiskFlag.expected, RiskFlag.detail).where(
        RiskFlag.round_id == round_.id, RiskFlag.institution_id == institution.id)).all())


def plant_duplicates(clean: SimpleNamespace) -> SimpleNamespace:
    """One child at two schools of two provinces, one twice at one school, one guardian phone
    behind learners of both schools (written two ways) and one behind one school's only."""
    a, b = clean.tree.a, clean.tree.b
    born = date(2018, 3, 3)
    across = [learner(school, "P2", first_name="สมหญิง", last_name="ซ้ำชื่อ", birth_date=born)
              for school in (a.school, b.school)]
    at_b = [learner(b.school, "P2", first_name="สมชาย", last_name="ซ้ำที่บี", birth_date=born)
            for _ in range(2)]
    # Not the same person: left the school, or no birth date to compare.
    learner(a.cdc, "A3", first_name="สมชาย", last_name="ซ้ำที่บี", birth_date=born
            ).status = "withdrawn"
    for school in (a.school, b.school):
        learner(school, "P2", first_name="ไม่ทราบ", last_name="วันเกิด", birth_date=None)
    phone = ([learner(a.school, "P2", guardian_phone="081-111 2222") for _ in range(3)]
             + [learner(b.school, "P2", guardian_phone="0811112222") for _ in range(2)])
    phone_b = [learner(b.school, "P2", guardian_phone="082 222 2222") for _ in range(5)]
    for _ in range(4):
        learner(a.school, "P2", guardian_phone="0833333333")
    db.session.commit()
    return SimpleNamespace(across=across, at_b=at_b, phone=phone, phone_b=phone_b)


def test_recomputing_one_institution_finds_what_the_national_run_finds_there(clean
                                                                             ) -> None:  # noqa: ANN001
    a, b = clean.tree.a, clean.tree.b
    planted = plant_duplicates(clean)
    stored(clean.round, "same_person")
    national = {school: flags_at(clean.round, school) for school in (a.school, b.school)}
    assert {f[1] for f in national[a.school] if f[0] == "same_person"} == {
        planted.across[0].id}
    assert {f[1] for f in national[b.school] if f[0] == "same_person"} == {
        planted.across[1].id, *(e.id for e in planted.at_b)}
    assert {f[1] for f in national[a.school] if f[0] == "shared_phone"} == {
        e.id for e in planted.phone[:3]}
    assert {f[1] for f in national[b.school] if f[0] == "shared_phone"} == {
        e.id for e in planted.phone[3:] + planted.phone_b}
    for school in (a.school, b.school):  # whichever of the two re-imports
        db.session.execute(RiskFlag.__table__.delete())
        stored(clean.round, "same_person", [school.id])
        assert flags_at(clean.round, school) == national[school], school.name
        # The other school shares a person and a phone with this one: its flags of those two
        # rules are stored again too, as the national run stores them; the rest wait.
        other = b.school if school is a.school else a.school
        assert flags_at(clean.round, other) == {
            f for f in national[other] if f[0] in ("same_person", "shared_phone")}


def test_a_duplicate_gone_from_one_school_clears_its_twins_flag_at_the_other(clean
                                                                            ) -> None:  # noqa: ANN001
    """B's copy of a child found at A too is withdrawn and B recomputes: A's flag about the
    pair used to stay until A recomputed, and a new copy at B left A unflagged."""
    a, b = clean.tree.a, clean.tree.b
    planted = plant_duplicates(clean)
    stored(clean.round, "same_person")
    twin_at_a, copy_at_b = planted.across
    assert twin_at_a.id in {f[1] for f in flags_at(clean.round, a.school)}
    copy_at_b.status = "withdrawn"
    for enrolment in planted.phone[3:]:  # the phone is left behind three learners, below five
        enrolment.status = "withdrawn"
    stored(clean.round, "same_person", [b.school.id])
    at_a = flags_at(clean.round, a.school)
    assert twin_at_a.id not in {f[1] for f in at_a if f[0] == "same_person"}
    assert not {e.id for e in planted.phone[:3]} & {f[1] for f in at_a if f[0] == "shared_phone"}
    copy_at_b.status = "active"
    stored(clean.round, "same_person", [b.school.id])
    assert twin_at_a.id in {f[1] for f in flags_at(clean.round, a.school) if f[0] == "same_person"}


def read_plans(query: object) -> list[str]:
    """How SQLite reads `query`, as the app sends it (the same SQL, the same parameters)."""
    connection = db.session.connection()

    def explain(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        return "EXPLAIN QUERY PLAN " + statement, parameters

    event.listen(connection, "before_cursor_execute", explain, retval=True)
    try:
        return [row[3] for row in connection.execute(query).all()]
    finally:
        event.remove(connection, "before_cursor_execute", explain)


@pytest.mark.sqlite_only  # PostgreSQL plans by table size: benchmarks/risk_recompute.py
@pytest.mark.parametrize("key", ["same_person", "shared_phone"])
def test_recomputing_one_institution_looks_its_keys_up_instead_of_reading_the_country(
        clean, key: str) -> None:  # noqa: ANN001
    """A recompute after one institution's import reads, on indexes, only its learners and the
    learners sharing their names and birth dates or guardian phones, not the whole country."""
    a = clean.tree.a
    plant_duplicates(clean)
    query = risk.RULES[key].rows(clean.round, risk.thresholds(db.session, YEAR), [a.school.id])
    plans = read_plans(query)
    # SEARCH finds rows on an index; SCAN reads the whole table.
    read = [p for p in plans if p.split(" ")[1] in ("learner", "enrolment")]
    assert read and all(p.startswith("SEARCH") for p in read), plans
    index = {"same_person": "ix_learner_name_birth_date",
             "shared_phone": "ix_learner_normalised_phone"}[key]
    assert any(index in p for p in read), plans
