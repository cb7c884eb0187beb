"""Scale (SPEC §5, 7,850 LAOs and 20,000 institutions): confirming an LAO and the province
dashboard run a fixed number of SQL statements however many units there are."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from test_confirmation import open_round

from models import Institution, Lao, db
from rules import acting_as
from rules import confirmation as rules


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def add_schools(lao: Lao, first: int, how_many: int, round_) -> None:  # noqa: ANN001
    """`how_many` confirmed schools under `lao` (direct rows, to keep the setup quick)."""
    schools = [Institution(code=f"3033{2 if lao.lao_type == 5 else 3}{n:05d}", name=f"ร.ร. {n}",
                           kind="school", lao_id=lao.id) for n in range(first, first + how_many)]
    db.session.add_all(schools)
    db.session.commit()
    with acting_as(None):
        for school in schools:
            rules.confirm_institution(db.session, round_, school)
        db.session.commit()


def confirm_lao_statements(lao: Lao, round_) -> int:  # noqa: ANN001
    db.session.expire_all()
    with acting_as(None), counted() as statements:
        rules.confirm_lao(db.session, round_, db.session.get(Lao, lao.id), "students")
        db.session.commit()
    return len(statements)


def test_confirming_an_lao_costs_the_same_with_200_institutions(tree) -> None:
    round_ = open_round()
    add_schools(tree.a.sao, 1, 2, round_)
    small = confirm_lao_statements(tree.a.sao, round_)
    add_schools(tree.a.muni, 2, 199, round_)  # with the fixture's school: 200
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    large = confirm_lao_statements(tree.a.muni, round_)
    assert small == large, (small, large)


def test_the_province_dashboard_costs_the_same_for_any_number_of_laos(tree, browser) -> None:
    round_ = open_round()
    province = browser(tree.a.province_user)
    url = f"/admin/confirmation/?round={round_.id}"
    province.get(url)
    with counted() as few:
        assert province.get(url).status_code == 200
    db.session.add_all([Lao(code=f"063301{n:02d}", name=f"อบต. {n}", lao_type=6,
                            province_code="33", district_code="3301") for n in range(10, 60)])
    db.session.commit()
    add_schools(db.session.get(Lao, tree.a.sao.id), 10, 30, round_)
    with counted() as many:
        page = province.get(url)
    assert page.status_code == 200 and "06330159" in page.get_data(as_text=True)
    assert len(few) == len(many), (len(few), len(many))


def test_a_page_loads_the_account_and_its_unit_in_one_statement(tree, browser) -> None:
    """Every page names the user's school or LAO in its header: found with the account."""
    users = [(browser(user), (user.institution or user.lao).name)
             for user in (tree.a.school_user, tree.a.muni_user)]
    for client, unit in users:
        db.session.expunge_all()  # as in a fresh request: nothing is known yet
        with counted() as statements:
            page = client.get("/admin/profile/").get_data(as_text=True)
        assert unit in page
        reads = [s.split("FROM", 1)[1].split()[0] for s in statements if "FROM" in s]
        assert reads.count("user_account") == 1
        assert "institution" not in reads and "lao" not in reads, reads
