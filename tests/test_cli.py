"""The `lec` commands of SPEC §10: demo, create-user, set-password."""

import csv
from pathlib import Path

import click.testing
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import Browser
from sqlalchemy import func, select

from app import create_app
from models import Institution, Lao, OtherSchool, User, db

ROOT = Path(__file__).resolve().parents[1]


def test_demo_province_signs_in_at_every_level(app, runner):
    result = runner.invoke(args=["lec", "demo", "--province", "33"])
    assert result.exit_code == 0, result.output
    with open(f"{app.instance_path}/demo-accounts.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == {"login", "password", "level", "unit"}
    assert {r["level"] for r in rows} == {"department", "province", "lao", "institution"}
    assert db.session.scalar(select(func.count()).select_from(Lao)) > 200
    kinds = set(db.session.scalars(select(Institution.kind)))
    assert kinds == {"school", "cdc"}
    for level in ("department", "province", "lao", "institution"):
        row = next(r for r in rows if r["level"] == level)
        Browser(app.test_client()).login(row["login"], row["password"])

    # Running it again keeps the units and reissues the passwords written to the file.
    laos = db.session.scalar(select(func.count()).select_from(Lao))
    assert runner.invoke(args=["lec", "demo"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Lao)) == laos


def test_demo_other_affiliation_schools_are_named_after_their_subdistrict(app, runner):
    assert runner.invoke(args=["lec", "demo", "--province", "33"]).exit_code == 0
    schools = db.session.scalars(select(OtherSchool)).all()
    assert schools
    for school in schools:
        place = school.lao.name.removeprefix("องค์การบริหารส่วนตำบล")
        assert school.name == f"โรงเรียนบ้าน{place}", school.name
        assert "ำบล" not in school.name


def test_set_password_reads_stdin_and_ends_sessions(app, runner, tree):
    browser = Browser(app.test_client()).login(tree.a.school_user.login)
    result = runner.invoke(args=["lec", "set-password", tree.a.school_user.login],
                           input="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert browser.get("/admin/").status_code == 302  # the old session is dead
    Browser(app.test_client()).login(tree.a.school_user.login, "a brand new password")


def test_set_password_refuses_a_short_password(app, runner, tree):
    result = runner.invoke(args=["lec", "set-password", tree.a.school_user.login],
                           input="short\n")
    assert result.exit_code != 0


def test_create_user_for_an_lao(app, runner, tree):
    result = runner.invoke(args=["lec", "create-user", "officer.a", "--level", "lao",
                                 "--unit", tree.a.sao.code])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.login == "officer.a"))
    assert user.lao_id == tree.a.sao.id and user.province_code == "33"
    assert user.must_change_password


def test_create_user_with_unknown_unit_is_refused(app, runner, tree):
    for level, code, said in (("institution", "3099999999", "ไม่มีสถานศึกษารหัส 3099999999"),
                              ("lao", "09999999", "ไม่มี อปท. รหัส 09999999")):
        result = runner.invoke(args=["lec", "create-user", "ghost", "--level", level,
                                     "--unit", code])
        assert result.exit_code == 1
        assert result.output == f"ข้อผิดพลาด: {said}\n"
        assert db.session.scalar(select(User).where(User.login == "ghost")) is None



def test_create_user_refuses_a_unit_for_a_department_account(app, runner, tree):
    result = runner.invoke(args=["lec", "create-user", "dla.somchai", "--level", "department",
                                 "--unit", tree.a.sao.code])
    assert result.exit_code == 1
    assert result.output == ("ข้อผิดพลาด: บัญชีระดับกรมไม่สังกัดหน่วยงานใด กรุณาไม่ระบุ --unit "
                             "(ใช้กับบัญชีระดับจังหวัด อปท. และสถานศึกษาเท่านั้น)\n")
    assert db.session.scalar(select(User).where(User.login == "dla.somchai")) is None


def test_the_commands_speak_thai_by_default_and_english_when_asked(app, runner, tree):
    result = runner.invoke(args=["lec", "create-user", "dla.somchai", "--level", "department"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("สร้างบัญชี dla.somchai แล้ว รหัสผ่านใช้ครั้งเดียว: ")
    result = runner.invoke(args=["lec", "create-user", "DLA.Somchai", "--level", "department"])
    assert result.output.startswith("ข้อผิดพลาด: ชื่อผู้ใช้งาน DLA.Somchai ซ้ำกับบัญชี dla.somchai")
    result = runner.invoke(args=["lec", "set-password", "nobody"], input="a brand new password\n")
    assert result.exit_code == 1
    assert result.output == "ข้อผิดพลาด: ไม่มีบัญชีชื่อผู้ใช้งาน nobody\n"
    result = runner.invoke(args=["lec", "set-password", "dla.somchai"],
                           input="a brand new password\n")
    assert result.output == "ตั้งรหัสผ่านของ dla.somchai แล้ว\n"
    result = runner.invoke(args=["lec", "totals"])
    assert result.output == "คำนวณยอดรวมของจังหวัดใหม่จากข้อมูลที่ยืนยันแล้วเรียบร้อยแล้ว\n"

    result = runner.invoke(args=["lec", "--language", "en", "create-user", "dla.somsri",
                                 "--level", "department"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created dla.somsri. One-time password: ")
    english = {"LEC_CLI_LANGUAGE": "en"}
    result = runner.invoke(args=["lec", "set-password", "nobody"], env=english,
                           input="a brand new password\n")
    assert result.output == "Error: There is no account nobody.\n"
    # The rules' own refusals follow the same language.
    result = runner.invoke(args=["lec", "set-password", "dla.somsri"], env=english,
                           input="short\n")
    assert result.exit_code == 1
    assert "The new password must be at least" in result.output
    result = runner.invoke(args=["lec", "--language", "en", "create-user", "dla.somsri",
                                 "--level", "department", "--unit", "33"])
    assert result.output == ("Error: A department account belongs to no unit: leave out --unit "
                             "(it is for province, LAO and institution accounts).\n")
    result = runner.invoke(args=["lec", "risk"], env=english)
    assert result.output == "Error: There is no round yet.\n"
    # Thai again for the next command in the same process.
    result = runner.invoke(args=["lec", "risk"])
    assert result.output == "ข้อผิดพลาด: ยังไม่มีครั้งที่เก็บข้อมูล\n"


@pytest.fixture
def piped_stdin(monkeypatch):
    """Standard input as a pipe gives it, line ends untouched: CliRunner's reader turns CR LF
    into LF, which the real one does not."""

    class Piped(click.testing._NamedTextIOWrapper):
        def __init__(self, buffer, **kwargs):  # noqa: ANN001, ANN003
            super().__init__(buffer, **kwargs, **({"newline": ""} if kwargs["mode"] == "r"
                                                  else {}))

    monkeypatch.setattr(click.testing, "_NamedTextIOWrapper", Piped)


def test_set_password_from_a_windows_pipe_signs_in_without_the_line_end(app, runner, tree,
                                                                         piped_stdin):
    login = tree.a.school_user.login
    result = runner.invoke(args=["lec", "set-password", login],
                           input="a brand new password\r\n")
    assert result.exit_code == 0, result.output
    Browser(app.test_client()).login(login, "a brand new password")


def test_create_user_from_a_windows_pipe_signs_in_without_the_line_end(app, runner,
                                                                        piped_stdin):
    result = runner.invoke(args=["lec", "create-user", "dla.somchai", "--level", "department",
                                 "--password-stdin"], input="a brand new password\r\n")
    assert result.exit_code == 0, result.output
    Browser(app.test_client()).login("dla.somchai", "a brand new password")


def test_a_command_before_init_says_to_run_init(tmp_path, monkeypatch):
    monkeypatch.delenv("LANGUAGE", raising=False)  # as the runner fixture does
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/new.sqlite"})
    app.instance_path = str(tmp_path)
    runner = app.test_cli_runner()
    for args in (["create-user", "dla.somchai", "--level", "department"],
                 ["import-learners", "3033100001", __file__]):
        result = runner.invoke(args=["lec", *args])
        assert result.exit_code == 1
        assert result.output == ("ข้อผิดพลาด: ฐานข้อมูลยังไม่มีตาราง กรุณาสั่ง "
                                 "“flask --app app lec init” ก่อน\n")
        result = runner.invoke(args=["lec", "--language", "en", *args])
        assert result.exit_code == 1
        assert result.output == ("Error: The database has no tables yet: run “flask --app app "
                                 "lec init” first.\n")
    assert runner.invoke(args=["lec", "create-user", "--help"]).exit_code == 0
    result = runner.invoke(args=["lec", "init"])
    assert result.exit_code == 0
    assert result.output.endswith("\nโครงสร้างฐานข้อมูลเป็นปัจจุบันแล้ว เพิ่มข้อมูลจังหวัด อำเภอ ตำบล "
                                  "8441 แถว\n")
    result = runner.invoke(args=["lec", "create-user", "dla.somchai", "--level", "department"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("สร้างบัญชี dla.somchai แล้ว")
    # Outside any app context, as from a shell: the command runs in the language asked for.
    result = runner.invoke(args=["lec", "--language", "en", "create-user", "dla.somsri",
                                 "--level", "department"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created dla.somsri. One-time password: ")


def test_demo_of_an_unknown_province_is_refused_in_words(app, runner):
    result = runner.invoke(args=["lec", "demo", "--province", "99"])
    assert result.exit_code == 1
    assert result.output == "ข้อผิดพลาด: ไม่มีจังหวัดรหัส 99\n"
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_import_learners_into_an_unknown_institution_is_refused_in_words(app, runner, tmp_path):
    file = tmp_path / "learners.csv"
    file.write_text("ชื่อ,นามสกุล\n", encoding="utf-8")
    result = runner.invoke(args=["lec", "import-learners", "3099999999", str(file)])
    assert result.exit_code == 1
    assert result.output == "ข้อผิดพลาด: ไม่มีสถานศึกษารหัส 3099999999\n"


def test_a_worker_without_threads_is_refused(app, runner):
    result = runner.invoke(args=["lec", "worker", "--threads", "0"])
    assert result.exit_code == 2
    assert "ข้อผิดพลาด: ค่าของ '--threads' ไม่ถูกต้อง: 0 อยู่นอกช่วงที่รับได้ (x>=1)" in result.output
    result = runner.invoke(args=["lec", "--language", "en", "worker", "--threads", "0"])
    assert "Error: Invalid value for '--threads': 0 is not in the range x>=1." in result.output


def test_import_learners_into_a_common_era_year_is_refused(app, runner, tree, tmp_path):
    file = tmp_path / "learners.csv"
    file.write_text("ชื่อ,นามสกุล\n", encoding="utf-8")
    result = runner.invoke(args=["lec", "import-learners", tree.a.school.code, str(file),
                                 "--year", "2026"])
    assert result.exit_code == 2
    assert result.output.endswith("ข้อผิดพลาด: ค่าของ '--year' ไม่ถูกต้อง: 2026 อยู่นอกช่วงที่รับได้ "
                                  "(2500<=x<=2700)\n")


def test_help_is_thai_by_default_and_english_on_request(runner):
    """DLA staff read the commands' help in Thai, click's own words too; --language en or
    LEC_CLI_LANGUAGE=en for English."""
    thai = runner.invoke(args=["lec", "import-learners", "--help"])
    assert thai.exit_code == 0, thai.output
    assert "นำเข้าไฟล์รายชื่อผู้เรียน" in thai.output and "ปีการศึกษา (พ.ศ." in thai.output
    assert thai.output.startswith("วิธีใช้: ")
    assert " lec import-learners [ตัวเลือก] รหัสสถานศึกษา ไฟล์\n" in thai.output
    assert "--year ปี " in thai.output
    assert "\nตัวเลือก:\n" in thai.output and "แสดงคำอธิบายนี้แล้วจบการทำงาน" in thai.output
    assert "Usage" not in thai.output and "Show this message" not in thai.output
    listing = runner.invoke(args=["lec", "--help"]).output
    assert "คำสั่งดูแลระบบ LEC" in listing and "ทำงานเบื้องหลัง" in listing  # the worker's too
    english = runner.invoke(args=["lec", "--language", "en", "import-learners", "--help"]).output
    assert "Import a learner file" in english and "Academic year (BE" in english
    assert " lec import-learners [OPTIONS] INSTITUTION_CODE FILE\n" in english
    assert "--year YEAR " in english and "Show this message and exit." in english
    assert "นำเข้า" not in english and "วิธีใช้" not in english
    # click writes each --help option once per process: the next help is Thai again.
    assert "แสดงคำอธิบายนี้แล้วจบการทำงาน" in runner.invoke(
        args=["lec", "import-learners", "--help"]).output
    assert "Language of the messages" in runner.invoke(
        args=["lec", "--language", "en", "--help"]).output
    assert "Jobs run at once" in runner.invoke(args=["lec", "worker", "--help"],
                                               env={"LEC_CLI_LANGUAGE": "en"}).output


def test_a_missing_argument_is_named_in_the_commands_language(app, runner):
    """click writes this refusal after the command's context has closed."""
    result = runner.invoke(args=["lec", "import-learners", "3033100001"])
    assert result.exit_code == 2
    assert " lec import-learners [ตัวเลือก] รหัสสถานศึกษา ไฟล์\n" in result.output
    assert result.output.endswith("\nข้อผิดพลาด: ไม่ได้ระบุ 'ไฟล์'.\n")
    result = runner.invoke(args=["lec", "--language", "en", "import-learners", "3033100001"])
    assert result.output.endswith("\nError: Missing argument 'FILE'.\n")
    # A language LEC does not speak is refused in Thai, the default.
    result = runner.invoke(args=["lec", "init"], env={"LEC_CLI_LANGUAGE": "xx"})
    assert result.exit_code == 2
    assert result.output.endswith("\nข้อผิดพลาด: ค่าของ '--language' ไม่ถูกต้อง: 'xx' "
                                  "ไม่ใช่ค่าที่เลือกได้ (เลือกได้: 'th', 'en')\n")


def test_every_word_of_clicks_we_translate_is_one_click_still_says():
    """An upgrade of click that rewords a message would leave it English: fail here first."""
    said = {message for _, _, message, *_ in extract_from_dir(
        Path(click.__file__).parent, method_map=[("**.py", "python")])}
    with (ROOT / "translations/th/LC_MESSAGES/click.po").open("rb") as handle:
        translated = [m.id for m in read_po(handle) if m.id]
    assert len(translated) > 40
    assert [m for m in translated if m not in said] == []
