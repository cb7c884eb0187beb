"""The password policy of ASVS 5.0 §6.2 on every path that sets a password (issue 12 item 7)."""

import pytest
from conftest import csrf_token
from sqlalchemy import select

from admin_views.cards import one_time_password
from models import Level, User, db
from models.accounts import password_hasher
from rules.passwords import common_passwords, names_of, password_problems
from seed.demo import one_time_password as demo_password

WEAK = ["0000000000", "aaaaaaaaaa", "กกกกกกกกกก", "P@ssw0rd!!", "sisaket1234", "0812345678",
        "1234567890", "abcdefghij", "qwertyuiop", "Password2024!", "ศรีสะเกษ2569",
        "abcabcabcabc", "081-234-5678"]
STRONG = ["river lantern 2569 blue", "แม่น้ำมูลไหลผ่านอุบล", "k7Hq2mWx9pRt", "Somchai-is-great"]


def test_the_common_list_holds_thousands():
    assert len(common_passwords()) >= 3000
    assert {"123456", "password", "qwerty"} <= common_passwords()


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_of_a_sisaket_school_are_refused(app, tree, password):
    # tree.a is in province 33, Si Sa Ket (ศรีสะเกษ).
    assert password_problems(password, names_of(tree.a.school_user)), password


@pytest.mark.parametrize("password", STRONG)
def test_reasonable_passwords_pass(app, tree, password):
    assert password_problems(password, names_of(tree.a.school_user)) == []


def test_generated_passwords_pass():
    for _ in range(200):
        assert password_problems(one_time_password()) == []
        assert password_problems(demo_password()) == []


def test_profile_page_refuses_a_leet_common_password(app, tree):
    user = tree.a.school_user
    user.password_hash = password_hasher.hash("k7Hq2mWx9pRt")
    user.must_change_password = True
    db.session.commit()
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"login": user.login, "password": "k7Hq2mWx9pRt",
                                "csrf_token": token})
    page = client.get("/admin/profile/password").get_data(as_text=True)
    # The page says up front what the policy refuses, the unit's names included.
    assert "หรือชื่อหน่วยงาน อปท. หรือจังหวัดของท่านอยู่ในรหัสผ่าน" in page
    response = client.post("/admin/profile/password", data={
        "current": "k7Hq2mWx9pRt", "new": "P@ssw0rd!!", "confirm": "P@ssw0rd!!",
        "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "รหัสผ่านนี้" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).check_password("k7Hq2mWx9pRt")


@pytest.mark.parametrize("password", ["0000000000", "sisaket1234", "0812345678"])
def test_cli_set_password_refuses_weak_ones(app, runner, tree, password):
    result = runner.invoke(args=["lec", "set-password", tree.a.school_user.login],
                           input=password + "\n")
    assert result.exit_code != 0
    assert not db.session.scalar(select(User).where(User.id == tree.a.school_user.id)
                                 ).check_password(password)


def test_cli_create_user_refuses_a_weak_chosen_password(app, runner, tree):
    result = runner.invoke(args=["lec", "create-user", "officer.weak", "--level",
                                 str(Level.LAO), "--unit", tree.a.sao.code, "--password-stdin"],
                           input="aaaaaaaaaa\n")
    assert result.exit_code != 0
    assert db.session.scalar(select(User).where(User.login == "officer.weak")) is None


def test_account_form_refuses_a_weak_one_time_password(app, tree, browser):
    b = browser(tree.department)
    target = tree.a.school_user
    response = b.post(f"/admin/user/edit/?id={target.id}", data={
        "login": target.login, "level": str(target.level),
        "institution": str(target.institution_id), "active": "y",
        "new_password": "0812345678"}, follow_redirects=True)
    assert "หมายเลขโทรศัพท์" in response.get_data(as_text=True)
    assert not db.session.get(User, target.id).check_password("0812345678")
