"""`lec import-laos` over DLA's real registry (shared/data) and over broken files."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import CodeException, Lao, db

REGISTRY = Path(__file__).resolve().parents[2] / "shared" / "data" / "dla_lao_registry.csv"
HEADER = ("dla_code,lao_type,name_th,province_code,province_name_th,district_code,"
          "district_name_th,lat,lon,area_km2\n")


def count_laos() -> int:
    return db.session.scalar(select(func.count()).select_from(Lao))


def test_the_whole_registry_loads_with_its_three_exceptions(app, runner):
    result = runner.invoke(args=["lec", "import-laos", str(REGISTRY)])
    assert result.exit_code == 0, result.output
    assert count_laos() == 7849
    by_type = dict(db.session.execute(
        select(Lao.lao_type, func.count()).group_by(Lao.lao_type)).all())
    assert by_type == {2: 76, 3: 31, 4: 195, 5: 2247, 6: 5300}  # 30 city + Pattaya
    exceptions = {(e.code, e.rule) for e in db.session.scalars(select(CodeException))}
    assert exceptions == {("06130408", "type"), ("06720123", "type"), ("02520101", "district")}
    assert len(set(db.session.scalars(select(Lao.province_code)))) == 76

    again = runner.invoke(args=["lec", "import-laos", str(REGISTRY)])
    assert again.exit_code == 0
    assert again.output == "เพิ่ม อปท. 0 แห่ง ปรับปรุง 0 แห่ง บันทึกข้อยกเว้นรหัส 0 รายการ\n"
    assert count_laos() == 7849
    assert db.session.scalar(select(func.count()).select_from(CodeException)) == 3


@pytest.mark.parametrize("body,expected", [
    (HEADER.replace("lao_type", "type"), "บรรทัดที่ 1: คอลัมน์ต้องเป็น"),
    (HEADER + "6330102,อบต.,ทดสอบ,33,ศรีสะเกษ,3301\n", "บรรทัดที่ 2: จำนวนช่องข้อมูลไม่ถูกต้อง"),
    (HEADER + "6330102,อบต.,ก,33,ศรีสะเกษ,3301,เมือง,,,\n633010X,อบต.,ข,33,ศรีสะเกษ,3301,เมือง,,,\n",
     "บรรทัดที่ 3: dla_code ต้องเป็นตัวเลข ๗ หลัก"),
    (HEADER + "6330102,อบต.,ก,33,ศรีสะเกษ,3301,เมือง,,,\n6340102,อบต.,ข,33,ศรีสะเกษ,3301,เมือง,,,\n",
     "บรรทัดที่ 3: หลักที่ ๓-๔ ของรหัส อปท. (34)"),
    (HEADER + "6330102,ตำบล,ก,33,ศรีสะเกษ,3301,เมือง,,,\n", "ไม่รู้จักประเภท อปท. (lao_type) ตำบล"),
    (HEADER + "6330102,อบต.,ก,33,ศรีสะเกษ,9999,เมือง,,,\n", "ไม่พบรหัสอำเภอ (district_code) 9999"),
])
def test_a_broken_file_names_the_line_and_writes_nothing(app, runner, tmp_path, body, expected):
    path = tmp_path / "laos.csv"
    path.write_text(body, encoding="utf-8")
    result = runner.invoke(args=["lec", "import-laos", str(path)])
    assert result.exit_code != 0
    assert expected in result.output
    assert result.output.endswith("\nError: ข้อมูลไม่ถูกต้อง 1 บรรทัด จึงไม่ได้นำเข้าข้อมูลใด ๆ\n")
    assert count_laos() == 0


def test_a_file_that_is_not_utf8_is_refused(app, runner, tmp_path):
    path = tmp_path / "laos.csv"
    path.write_bytes(HEADER.encode() + "6330102,อบต.,ก,33,ศรีสะเกษ,3301,เมือง,,,\n".encode("cp874"))
    result = runner.invoke(args=["lec", "import-laos", str(path)])
    assert result.exit_code != 0 and "UTF-8" in result.output
    assert count_laos() == 0


def test_each_lao_is_named_in_full_by_its_kind(app, runner):
    """The registry's bare "ศรีสะเกษ" names both the PAO and the town municipality; the screens,
    reports and cards name each in full, as DLA writes them."""
    result = runner.invoke(args=["lec", "import-laos", str(REGISTRY)])
    assert result.exit_code == 0, result.output
    names = dict(db.session.execute(select(Lao.code, Lao.name).where(Lao.code.in_(
        ["02330101", "04330102", "03110102", "03200408", "06330104", "06130408"]))).all())
    assert names == {"02330101": "องค์การบริหารส่วนจังหวัดศรีสะเกษ",
                     "04330102": "เทศบาลเมืองศรีสะเกษ", "03110102": "เทศบาลนครสมุทรปราการ",
                     "03200408": "เมืองพัทยา", "06330104": "องค์การบริหารส่วนตำบลโพนข่า",
                     # a subdistrict municipality that kept the SAO type digit
                     "06130408": "เทศบาลตำบลหนองสามวัง"}
