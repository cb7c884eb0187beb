"""Credential cards (SPEC §6, issue 5 item 1): issue, print, scan, and only the hash is kept."""

import re
import struct
import zlib

import zxingcpp
from conftest import PASSWORD, csrf_token, make_user
from sqlalchemy import func, select

import jobs
from admin_views import cards
from admin_views.cards import card_png, parse_payload
from models import AuditEntry, Institution, Level, User, db
from models.jobs import Job, JobStatus


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def png_pixels(png: bytes) -> memoryview:
    """Decode a greyscale or palette PNG (as segno writes) to one byte per pixel for zxing."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, palette = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"PLTE":
            palette = [chunk[i] for i in range(0, len(chunk), 3)]  # red channel is enough
        elif kind == b"IDAT":
            data += chunk
        pos += 12 + length
    assert colour in (0, 3) and depth in (1, 2, 4, 8)
    raw = zlib.decompress(data)
    stride = (width * depth + 7) // 8
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        bpp = max(1, depth // 8)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]) & 0xFF
        rows.append(line)
        prev = line
    out = bytearray()
    for line in rows:
        for x in range(width):
            bit = x * depth
            value = (line[bit // 8] >> (8 - depth - bit % 8)) & ((1 << depth) - 1)
            if palette is not None:
                out.append(palette[value])
            else:
                out.append(value * 255 // ((1 << depth) - 1))
    return memoryview(bytes(out)).cast("B", (height, width))


def test_a_card_qr_decodes_to_login_and_password():
    results = zxingcpp.read_barcodes(png_pixels(card_png("0533010102", "k7Hq2mWx9pRt")))
    assert len(results) == 1
    assert parse_payload(results[0].text) == {"login": "0533010102", "password": "k7Hq2mWx9pRt"}


def _cards(html):
    """(login, password) pairs printed on the sheet."""
    return dict(re.findall(r'<span class="secret">([^<]+)</span></div>\s*<div>[^<]*'
                           r'<span class="secret">([^<]+)</span>', html))


def test_province_issues_an_lao_page_of_cards(app, tree, browser):
    b = browser(tree.a.province_user)
    response = b.post("/admin/cards/issue", data={"group": f"lao:{tree.a.muni.id}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    cards = _cards(html)
    assert set(cards) == {tree.a.muni_user.login, tree.a.school_user.login}
    assert html.count("<svg") == 2 and "@page { size: A4" in html
    for login, password in cards.items():
        user = db.session.scalar(select(User).where(User.login == login))
        db.session.refresh(user)
        assert password not in user.password_hash and user.check_password(password)
        assert not user.check_password(PASSWORD) and user.must_change_password
        # The card's QR (as a PNG) gives back exactly what is printed beside it.
        decoded = zxingcpp.read_barcodes(png_pixels(card_png(login, password)))
        assert parse_payload(decoded[0].text) == {"login": login, "password": password}
    logged = db.session.scalars(select(AuditEntry.target).where(
        AuditEntry.action == "credential_issue")).all()
    assert sorted(logged) == sorted(cards)
    for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.model == "User")):
        assert "k7" not in str(entry.changes) and entry.changes["password_hash"][1] == "***"


def test_reissue_ends_the_holders_sessions_and_sends_them_to_first_login(app, tree, browser):
    holder = browser(tree.a.school_user)
    b = browser(tree.a.province_user)
    html = b.post("/admin/cards/issue", data={"user_id": tree.a.school_user.id}).get_data(
        as_text=True)
    password = _cards(html)[tree.a.school_user.login]
    assert holder.get("/admin/").status_code == 302
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"login": tree.a.school_user.login, "password": password,
                                "csrf_token": token})
    assert client.get("/admin/").headers["Location"] == "/admin/profile/password"


def test_cards_only_for_units_below_and_inside_the_subtree(app, tree, browser):
    b = browser(tree.a.province_user)
    before = db.session.scalar(select(User.password_hash).where(User.id == tree.b.school_user.id))
    assert b.post("/admin/cards/issue", data={"user_id": tree.b.school_user.id}).status_code == 403
    assert b.post("/admin/cards/issue", data={"user_id": tree.a.province_user.id}
                  ).status_code == 403
    assert b.post("/admin/cards/issue", data={"group": f"lao:{tree.b.muni.id}"}).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash).where(User.id == tree.b.school_user.id)
                             ) == before
    assert browser(tree.a.muni_user).get("/admin/cards/").status_code == 403
    dept = browser(tree.department)
    html = dept.post("/admin/cards/issue", data={"group": "province"}).get_data(as_text=True)
    assert set(_cards(html)) == {"33", "34"}
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "forbidden")) == 3


def test_cards_page_lists_groups_in_thai(tree, browser):
    page = browser(tree.a.province_user).get("/admin/cards/").get_data(as_text=True)
    assert "ออกบัตรและสั่งพิมพ์" in page
    assert tree.a.muni.name in page and tree.b.muni.name not in page


def test_a_province_with_more_accounts_than_listed_finds_one_to_reissue(tree, browser,
                                                                       monkeypatch):
    """A large province has more accounts than the page lists: it is told so and finds any
    institution by its code or name, without resetting the cards of its whole LAO."""
    monkeypatch.setattr(cards, "LISTED", 2)
    province = browser(tree.a.province_user)
    reissue = f'href="/admin/cards/preview?user_id={tree.a.cdc_user.id}"'
    page = province.get("/admin/cards/").get_data(as_text=True)
    assert "แสดงเพียง 2 บัญชีแรก" in page and reissue not in page
    for wanted in (tree.a.cdc.code, "ศพด. a"):
        found = province.get("/admin/cards/", query_string={"q": wanted}).get_data(as_text=True)
        assert reissue in found and "บัญชีแรก" not in found
        assert f'preview?user_id={tree.a.school_user.id}"' not in found
    elsewhere = province.get("/admin/cards/", query_string={"q": tree.b.cdc.code})
    assert "ไม่พบบัญชีในความดูแลของท่าน" in elsewhere.get_data(as_text=True)


def test_a_group_issue_first_lists_whose_passwords_will_be_reset(app, tree, browser):
    province = browser(tree.a.province_user)
    index = province.get("/admin/cards/").get_data(as_text=True)
    assert f'href="/admin/cards/preview?group=lao:{tree.a.sao.id}"' in index
    before = db.session.get(User, tree.a.sao_user.id).password_hash
    page = province.get(f"/admin/cards/preview?group=lao:{tree.a.sao.id}").get_data(as_text=True)
    assert tree.a.sao_user.login in page and tree.a.cdc_user.login in page
    assert tree.a.school_user.login not in page  # another LAO's institution
    assert 'action="/admin/cards/issue"' in page
    db.session.expire_all()
    assert db.session.get(User, tree.a.sao_user.id).password_hash == before
    assert province.get(f"/admin/cards/preview?group=lao:{tree.b.sao.id}").status_code == 404


def test_a_user_id_that_is_no_number_is_dropped_not_a_server_error(app, tree, browser):
    b = browser(tree.a.province_user)
    before = db.session.scalar(select(User.password_hash).where(User.id == tree.a.school_user.id))
    assert b.post("/admin/cards/issue", data={"user_id": "²"}).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash).where(User.id == tree.a.school_user.id)
                             ) == before


def test_a_provinces_card_job_shows_its_progress_as_the_cards_are_made(
        app, tree, browser, password_hash, tmp_path, monkeypatch):
    for n in range(100, 156):  # with the fixture's four: 60 accounts in province 33
        school = Institution(code=f"303320{n:04d}", name=f"โรงเรียน {n}", kind="school",
                             lao=tree.a.muni)
        db.session.add(school)
        make_user(school.code, Level.INSTITUTION, password_hash, institution=school)
    db.session.commit()
    monkeypatch.setitem(app.config, "LEC_JOBS_DIR", str(tmp_path / "results"))
    seen = []
    report = jobs.report_progress

    def watched(job: Job, done: int, total: int | None) -> None:
        seen.append((done, total))
        report(job, done, total)

    monkeypatch.setattr(jobs, "report_progress", watched)
    province = browser(tree.a.province_user)
    response = province.post("/admin/cards/issue", data={"group": "all"})
    assert response.status_code == 302
    db.session.expire_all()
    job = db.session.scalars(select(Job)).one()
    assert job.status == JobStatus.DONE and (job.rows_done, job.rows_total) == (60, 60)
    # The jobs page moved between "0 of 60" and done, in order, never past the total.
    done = [d for d, total in seen if total == 60]
    assert len(seen) == len(done) and done == sorted(done)
    assert len({d for d in done if 0 < d < 60}) >= 2


def test_an_inactive_account_gets_no_card_and_the_page_says_so(app, tree, browser):
    """A card for a deactivated account printed a password that could never sign in."""
    inactive = tree.a.sao_user
    db.session.get(User, inactive.id).active = False
    db.session.commit()
    before = db.session.scalar(select(User.password_hash).where(User.id == inactive.id))
    b = browser(tree.a.province_user)
    page = b.get("/admin/cards/").get_data(as_text=True)
    assert "บัญชีที่ไม่ได้เปิดใช้งานจะไม่ได้รับบัตรรหัสผ่าน (1 บัญชี)" in page
    assert f"user_id={inactive.id}" not in page
    html = b.post("/admin/cards/issue", data={"group": f"lao:{tree.a.sao.id}"}).get_data(
        as_text=True)
    assert set(_cards(html)) == {tree.a.cdc_user.login}
    assert b.post("/admin/cards/issue", data={"user_id": inactive.id}).status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash).where(User.id == inactive.id)) == before
