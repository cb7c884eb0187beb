"""Lists at national scale: indexed ID and name search, a unique sort, a capped count."""

import re

import pytest
from sqlalchemy import event, select, text

import clock
from admin_views import base, search
from admin_views.search import learner_condition
from models import Enrolment, Learner, db
from models.people import CDC_GRADES
from rules.enrolment import current_academic_year
from rules.identity import check_digit

NAMES = (("สมชาย", "ใจดี"), ("สมหญิง", "ใจงาม"), ("Anna", "Smith"), ("ธนากร", "ศรีสุข"))


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def fill(institution, count: int, start: int = 0, grade: str = "P1") -> list[str]:  # noqa: ANN001
    """`count` learners in one grade and one classroom, so only the id tells them apart."""
    year = current_academic_year(db.session)
    ids = []
    for n in range(start, start + count):
        first, last = NAMES[n % len(NAMES)]
        learner = Learner(national_id=nid(n), first_name=first, last_name=last, gender="M",
                          title="เด็กชาย")
        db.session.add(Enrolment(learner=learner, institution=institution, academic_year=year,
                                 grade=grade, classroom="1", enrolled_on=clock.today()))
        ids.append(learner.national_id)
    db.session.commit()
    return ids


def listed_ids(page: str) -> list[str]:
    """The IDs in the list's rows (not in the search box or the pager's links)."""
    rows = page.split("</thead>", 1)[-1].split("</table>", 1)[0]
    return re.findall(r"\b(?:1\d{12}|G\d{12})\b", rows)


def test_paging_neither_repeats_nor_skips(tree, browser) -> None:  # noqa: ANN001
    ids = fill(tree.a.school, 45)
    school = browser(tree.a.school_user)
    seen = []
    for page in range(3):
        html = school.get(f"/admin/student/?page={page}&page_size=20").get_data(as_text=True)
        seen += listed_ids(html)
    assert len(seen) == len(set(seen)) == 45
    assert set(seen) == set(ids)


def test_exact_id_search_returns_the_one_learner(tree, browser) -> None:  # noqa: ANN001
    ids = fill(tree.a.school, 12)
    school = browser(tree.a.school_user)
    typed = f"{ids[5][0]}-{ids[5][1:5]}-{ids[5][5:10]}-{ids[5][10:12]}-{ids[5][12]}"
    html = school.get("/admin/student/", query_string={"search": typed}).get_data(as_text=True)
    assert listed_ids(html) == [ids[5]]
    # Part of an ID finds nobody: IDs are not guessed digit by digit.
    html = school.get("/admin/student/", query_string={"search": ids[5][:8]}).get_data(
        as_text=True)
    assert listed_ids(html) == []


def test_g_code_search(tree, browser) -> None:  # noqa: ANN001
    fill(tree.a.school, 3)
    year = current_academic_year(db.session)
    learner = Learner(national_id="G663300000017", first_name="Mya", last_name="Win", gender="F")
    db.session.add(Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                             grade="P2", classroom="1"))
    db.session.commit()
    school = browser(tree.a.school_user)
    html = school.get("/admin/student/", query_string={"search": "g663300000017"}).get_data(
        as_text=True)
    assert listed_ids(html) == ["G663300000017"]


@pytest.mark.parametrize(("typed", "expected"), [("ใจ", 2), ("สมห", 1), ("smi", 1),
                                                 ("ANNA", 1), ("สมชาย ใจดี", 1), ("ดี", 0)])
def test_names_match_by_prefix_thai_and_latin(tree, browser, typed, expected) -> None:  # noqa: ANN001
    ids = fill(tree.a.school, 4)
    school = browser(tree.a.school_user)
    html = school.get("/admin/student/", query_string={"search": typed}).get_data(as_text=True)
    assert len(listed_ids(html)) == expected
    assert set(listed_ids(html)) <= set(ids)
    learners = school.get("/admin/learner/", query_string={"search": typed}).get_data(
        as_text=True)
    assert len(listed_ids(learners)) == expected


def test_a_name_many_learners_share_lists_the_same_rows(tree, browser, monkeypatch) -> None:  # noqa: ANN001
    """A province's search hands the list the learners' keys, or above KEYS_FIRST asks the name
    index in a subquery, as a school's always does; each lists the same rows."""
    fill(tree.a.school, 12)
    province, school = browser(tree.a.province_user), browser(tree.a.school_user)

    def rows(page: str) -> list[str]:
        """The rows' HTML, less the CSRF tokens (signed with the second they were made in)."""
        body = page.split("</thead>", 1)[-1].split("</table>")[0]
        body = re.sub(r'(name="csrf_token" value|data-csrf)="[^"]*"', "", body)
        return re.findall(r"<tr.*?</tr>", body, re.S)

    by_keys = rows(province.get("/admin/student/?search=ใจ").get_data(as_text=True))
    in_school = listed_ids(school.get("/admin/student/?search=ใจ").get_data(as_text=True))
    monkeypatch.setattr(search, "KEYS_FIRST", {"postgresql": 2, "sqlite": 2})
    by_subquery = rows(province.get("/admin/student/?search=ใจ").get_data(as_text=True))
    assert len(by_keys) == len(in_school) == 6 and by_subquery == by_keys


def page_and_statements(client, path: str) -> tuple[str, list[tuple[str, dict]]]:  # noqa: ANN001
    """The page at `path`, and the SQL statements (with their parameters) it ran."""
    sent: list[tuple[str, dict]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        return client.get(path).get_data(as_text=True), sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.mark.postgresql_only
def test_a_province_search_hands_postgresql_its_keys_as_one_constant(tree, browser) -> None:  # noqa: ANN001
    """A constant array is hashed once; a cast the planner cannot fold was parsed again and
    searched key by key for every enrolment of the province (0.7 s in a small one)."""
    fill(tree.a.school, 12)
    page, sent = page_and_statements(browser(tree.a.province_user), "/admin/student/?search=ใจ")
    body = page.split("</thead>", 1)[-1].split("</table>")[0]
    assert len(re.findall(r"<tr.*?</tr>", body, re.S)) == 6
    listing = [(s, p) for s, p in sent if "learner_keys" in s and s.startswith("SELECT enrol")]
    assert listing
    for statement, parameters in listing:
        plan = "\n".join(db.session.connection().exec_driver_sql(
            "EXPLAIN VERBOSE " + statement, parameters).scalars())
        assert "learner_id = ANY ('{" in plan and "cstring" not in plan, plan


@pytest.mark.postgresql_only
def test_a_name_search_is_planned_for_its_own_words_however_often_it_runs(tree) -> None:  # noqa: ANN001
    """psycopg prepares a statement run five times; a generic plan would scan every learner."""
    fill(tree.a.school, 8)
    for word in ("ใจ", "สม", "smi", "ธนา", "ศรี", "ann", "ใจดี", "สมห", "ธ", "s", "ใ", "ส"):
        db.session.scalars(select(Learner.id).where(learner_condition(word)).limit(5)).all()
    plans = db.session.execute(text(
        "SELECT sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements "
        "WHERE statement LIKE '%lower(learner.last_name) LIKE%'")).one()
    assert plans == (0, 7)  # prepared at the fifth run, then planned anew each time


def listed_count(page: str) -> tuple[int, bool]:
    """The count on the list's tab, and whether the page says the list was capped."""
    count = re.search(r'nav-link active">[^<]*?\((\d+)\)', page)
    return int(count.group(1)) if count else 0, "มากกว่า" in page or "More than" in page


def test_a_wide_name_search_counts_its_rows_inside_the_subtree(tree, browser, monkeypatch) -> None:  # noqa: ANN001
    """Above KEYS_FIRST the whole country's count is led by the learners found (search.py): it
    counts the students of every province the words find, no centre's children, and says when
    it stops at the cap; a province counts only its own."""
    fill(tree.a.school, 12)  # สมชาย ใจดี and สมหญิง ใจงาม: 6 are สม, 3 of them สมหญิง
    fill(tree.b.school, 8, start=100)  # 4 สม, 2 สมหญิง
    fill(tree.a.cdc, 4, start=200, grade=CDC_GRADES[0])  # 2 สม, children: not students
    monkeypatch.setattr(search, "KEYS_FIRST", {"postgresql": 2, "sqlite": 2})
    department, province = browser(tree.department), browser(tree.a.province_user)

    def counted(who, path: str) -> tuple[int, bool]:  # noqa: ANN001
        return listed_count(who.get(path).get_data(as_text=True))

    assert counted(department, "/admin/student/?search=สม") == (10, False)
    assert counted(department, "/admin/student/?search=สมห ใจ") == (5, False)
    assert counted(department, "/admin/child/?search=สม") == (2, False)
    assert counted(province, "/admin/student/?search=สม") == (6, False)
    assert counted(browser(tree.b.province_user), "/admin/student/?search=สม") == (4, False)
    monkeypatch.setattr(base, "COUNT_CAP", 7)
    assert counted(department, "/admin/student/?search=สม") == (7, True)
    assert counted(province, "/admin/student/?search=สม") == (6, False)


@pytest.mark.postgresql_only
def test_a_national_name_search_is_counted_from_its_learners(tree, browser, monkeypatch) -> None:  # noqa: ANN001
    """Led by the enrolments, the count read the country's enrolments and looked up each one's
    learner (224,000 look-ups for 'สม' nationally); from the learners, it stops at the cap."""
    fill(tree.a.school, 12)
    monkeypatch.setattr(search, "KEYS_FIRST", {"postgresql": 2, "sqlite": 2})
    page, sent = page_and_statements(browser(tree.department), "/admin/student/?search=สม")
    assert listed_count(page) == (6, False)
    ((statement, parameters),) = [(s, p) for s, p in sent if s.startswith("SELECT count(*)")
                                  and "array_to_string" not in s]
    plan = [line.strip() for line in db.session.connection().exec_driver_sql(
        "EXPLAIN " + statement, parameters).scalars()]
    scans = [line for line in plan if " on " in line and "Scan" in line]
    assert "on learner" in scans[0] and not any("on learner" in s for s in scans[1:]), plan


def test_learners_are_counted_once_each_where_they_are_held(tree, browser, monkeypatch) -> None:  # noqa: ANN001
    """Below the department the learner list is counted from the enrolments holding its
    learners: one with two enrolments in the subtree counts once, one who moved counts where
    they went, every count is the list's own rows, and it still stops at the cap."""
    year = current_academic_year(db.session)
    fill(tree.a.school, 3)
    fill(tree.b.school, 2, start=100)
    for n, now_at in ((200, tree.a.school), (201, tree.b.school)):  # stayed, moved away
        learner = Learner(national_id=nid(n), first_name="ย้าย", last_name="ที่เรียน",
                          gender="M", title="เด็กชาย")
        db.session.add_all([
            Enrolment(learner=learner, institution=tree.a.school, academic_year=year - 1,
                      grade="P1", classroom="1", status="transferred"),
            Enrolment(learner=learner, institution=now_at, academic_year=year, grade="P2",
                      classroom="1", enrolled_on=clock.today())])
    db.session.commit()

    def listed(user) -> tuple[tuple[int, bool], int]:  # noqa: ANN001
        page = browser(user).get("/admin/learner/").get_data(as_text=True)
        rows = page.split("</thead>", 1)[-1].split("</table>", 1)[0]
        return listed_count(page), rows.count("<tr")  # IDs are masked above the institution

    assert listed(tree.a.province_user) == ((4, False), 4)
    assert listed(tree.a.muni_user) == ((4, False), 4)
    assert listed(tree.a.school_user) == ((4, False), 4)
    assert listed(tree.b.province_user) == ((3, False), 3)
    assert listed(tree.b.school_user) == ((3, False), 3)
    assert listed(tree.department) == ((7, False), 7)
    monkeypatch.setattr(base, "COUNT_CAP", 2)
    assert listed(tree.a.province_user)[0] == (2, True)


def test_search_stays_in_scope(tree, browser) -> None:  # noqa: ANN001
    ids_b = fill(tree.b.school, 2, start=100)
    school = browser(tree.a.school_user)
    html = school.get("/admin/student/", query_string={"search": ids_b[0]}).get_data(
        as_text=True)
    assert listed_ids(html) == []


def test_count_is_capped_and_deep_pages_stop_at_the_cap(tree, browser, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(base, "COUNT_CAP", 30)
    fill(tree.a.school, 45)
    school = browser(tree.a.school_user)
    first = school.get("/admin/student/?page_size=20").get_data(as_text=True)
    assert "(30)" in first and "(45)" not in first  # the true total is never counted
    assert "มากกว่า 30" in first or "More than 30" in first
    last = school.get("/admin/student/?page=1&page_size=20").get_data(as_text=True)
    beyond = school.get("/admin/student/?page=7&page_size=20").get_data(as_text=True)
    assert listed_ids(beyond) == listed_ids(last) and len(listed_ids(last)) == 20


def test_inline_edit_widgets_only_for_who_may_edit(tree, browser, monkeypatch) -> None:  # noqa: ANN001
    fill(tree.a.school, 2)
    school = browser(tree.a.school_user)
    assert "x-editable" in school.get("/admin/student/").get_data(as_text=True)
    monkeypatch.setattr(base, "may_write", lambda user, model: False)
    assert "x-editable" not in school.get("/admin/student/").get_data(as_text=True)


def sortable_lists(app) -> list[str]:  # noqa: ANN001
    """The endpoints of every list view."""
    return [view.endpoint for view in app.extensions["admin"][0]._views
            if hasattr(view, "_sortable_columns")]


def sort_links(page: str) -> list[int]:
    """The columns a list's headings offer to sort by."""
    return sorted({int(n) for n in re.findall(r"[?&](?:amp;)?sort=(\d+)", page)})


def test_every_sort_a_list_offers_opens_both_ways(app, tree, browser) -> None:  # noqa: ANN001
    """A heading that offers a sort must give the sorted page, never an error page (sorting
    the audit log by its JSON values was one on PostgreSQL)."""
    fill(tree.a.school, 3)
    fill(tree.a.cdc, 2, start=50, grade=CDC_GRADES[0])
    offered = 0
    for user in (tree.department, tree.a.school_user, tree.a.cdc_user):
        signed_in = browser(user)
        for endpoint in sortable_lists(app):
            first = signed_in.get(f"/admin/{endpoint}/")
            if first.status_code != 200:
                continue
            for column in sort_links(first.get_data(as_text=True)):
                for order in ("", "&desc=1"):
                    path = f"/admin/{endpoint}/?sort={column}{order}"
                    assert signed_in.get(path).status_code == 200, (user.login, path)
                    offered += 1
    assert offered > 50


@pytest.mark.postgresql_only
def test_a_sorted_learner_list_below_the_department_sorts_its_own_learners(tree, browser) -> None:  # noqa: ANN001
    """IDs begin with the office that registered the birth, so a province's learners sit
    together on the national ID index: walking it to meet them read 1.3 million learners at
    national scale. Below the department the page is sorted from the subtree's learners, even
    when the planner would rather walk an index (as it does when the subtree looks small)."""
    ids = fill(tree.a.school, 6)
    fill(tree.b.school, 3, start=100)
    province = browser(tree.a.province_user)
    page, sent = page_and_statements(province, "/admin/learner/?sort=0&desc=1")
    rows = page.split("</thead>", 1)[-1].split("</table>", 1)[0]
    shown = re.findall(r"x-xxxx-xxxxx-(\d\d-\d)", rows)
    assert shown == [f"{i[10:12]}-{i[12]}" for i in sorted(ids, reverse=True)]
    statement, parameters = next((s, p) for s, p in sent if s.startswith(
        "SELECT learner.id AS learner_id") and "national_id DESC" in s)
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    plan = "\n".join(connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
    db.session.rollback()
    assert "uq_learner_national_id" not in plan, plan
