"""A list filter on a column of a fixed set of values is picked from the labels the list shows
(อปท., ศพด., อบต.), in the reader's language, and compares the stored code."""

import html
import json
import re

import pytest
from flask_admin.contrib.sqla.filters import FilterLike
from test_exports import filter_arg

from models import OtherSchool, db


def filter_groups(page: str) -> dict:
    """The filters a list offers, as its page hands them to the filter widget."""
    found = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', page, re.S)
    return json.loads(html.unescape(found[1]))


def cells(page: str, column: str) -> list[str]:
    """What the list shows in `column`, row by row."""
    return re.findall(rf'<td class="col-{column}">(.*?)</td>', page, re.S)


@pytest.mark.parametrize(("url", "column", "filter_name", "code", "label", "rows"), [
    ("/admin/user/", "level", "ระดับ", "lao", "อปท.", 4),
    ("/admin/lao/", "lao_type", "ประเภท อปท.", 6, "องค์การบริหารส่วนตำบล (อบต.)", 2),
    ("/admin/institution/", "kind", "ประเภทสถานศึกษา", "cdc", "ศูนย์พัฒนาเด็กเล็ก (ศพด.)", 2),
    ("/admin/other_school/", "affiliation", "สังกัด", "private", "เอกชน", 1),
])
def test_a_filter_offers_the_labels_the_list_shows(tree, browser, url, column, filter_name,
                                                   code, label, rows) -> None:  # noqa: ANN001
    """Typing อปท. or ศพด. into a text box over the codes lao and cdc found nothing."""
    db.session.add(OtherSchool(code="2033000001", name="โรงเรียนเอกชน", affiliation="private",
                               lao=tree.a.sao))
    db.session.commit()
    department = browser(tree.department)
    page = department.get(url).get_data(as_text=True)
    assert set(cells(page, column)) - {label}, "the list holds rows of other values"
    offered = filter_groups(page)[filter_name]
    equals = offered[0]  # the operation a new filter starts with
    assert equals["operation"] == "เท่ากับ" and [code, label] in equals["options"]
    narrowed = department.get(f"{url}?flt0_{equals['arg']}={code}").get_data(as_text=True)
    assert cells(narrowed, column) == [label] * rows


def test_a_list_of_labels_offers_no_free_text_operations(app, tree, browser) -> None:  # noqa: ANN001
    """"Contains ป.๖" reads no better than "is ป.๖" and scans past the index; a link made with
    it before still narrows the list, at the number it had."""
    school = browser(tree.a.school_user)
    grades = filter_groups(school.get("/admin/student/").get_data(as_text=True))["ระดับชั้น"]
    assert [f["operation"] for f in grades] == [
        "เท่ากับ", "ไม่เท่ากับ", "เป็นค่าว่าง", "อยู่ในรายการ", "ไม่อยู่ในรายการ"]
    department = browser(tree.department)
    laos = filter_groups(department.get("/admin/lao/").get_data(as_text=True))["ประเภท อปท."]
    assert "มากกว่า" not in [f["operation"] for f in laos]
    contains = filter_arg(app, "institution", "kind", FilterLike)
    assert contains == "flt0_0"
    page = department.get(f"/admin/institution/?{contains}=cdc").get_data(as_text=True)
    assert cells(page, "kind") == ["ศูนย์พัฒนาเด็กเล็ก (ศพด.)"] * 2


def test_the_labels_follow_the_readers_language(tree, browser) -> None:  # noqa: ANN001
    department = browser(tree.department)
    department.get("/language/en")
    levels = filter_groups(department.get("/admin/user/").get_data(as_text=True))["Level"]
    assert ["lao", "LAO"] in levels[0]["options"]
    assert ["institution", "Institution"] in levels[0]["options"]


def test_a_province_is_picked_by_its_name_on_the_lao_and_account_lists(tree, browser) -> None:  # noqa: ANN001
    """The lists show "33 ศรีสะเกษ"; the filter was a text box wanting the code typed."""
    department = browser(tree.department)
    for url, name in (("/admin/lao/", "จังหวัด"), ("/admin/user/", "จังหวัด")):
        offered = filter_groups(department.get(url).get_data(as_text=True))[name][0]
        assert offered["operation"] == "เท่ากับ" and ["33", "33 ศรีสะเกษ"] in offered["options"]
        assert len(offered["options"]) == 77
    narrowed = department.get(f"/admin/user/?flt0_{offered['arg']}=33").get_data(as_text=True)
    assert set(cells(narrowed, "province_code")) == {"33 ศรีสะเกษ"}
    every = cells(department.get("/admin/user/").get_data(as_text=True), "province_code")
    assert "" in every and "None" not in every  # the department's own account has none
    department.get("/language/en")
    offered = filter_groups(department.get("/admin/lao/").get_data(as_text=True))["Province"][0]
    assert ["33", "33 Si Sa Ket"] in offered["options"]
