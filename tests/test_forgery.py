"""Stamps are signed with the coordinator's key; every stamp field is validated; a forged or malformed
stamp makes the file 未采用 with reason 标识无效 — never another unit's return, never a traceback."""
import json
from xml.sax.saxutils import escape

import pytest

from conftest import EXAMPLES, make_workbook, patch_zip, run
from perftables.io import keys
from perftables.cycle.collect import ACCEPTED, REJECTED, collect
from perftables.io.book import read_book
from perftables.model.roster import Project, Roster, Unit
from perftables.io.stamp import STAMP_SHEET, _canonical, fingerprint


def stamp_of(data: bytes) -> dict:
    rows = read_book(data).sheets[STAMP_SHEET]
    return {r[0]: r[1] for r in rows if r and r[0]}


def restamp(data: bytes, mutate, key=None, drop_signature=False) -> bytes:
    """Rewrite the stamp as a forger would: new payload, its fingerprint recomputed, and — when a key
    is given — a signature made with that key."""
    old = stamp_of(data)
    payload = json.loads(old["payload"])
    mutate(payload)
    new_json = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    data = patch_zip(data, "xl/sharedStrings.xml", escape(old["payload"]).encode(), escape(new_json).encode())
    data = patch_zip(data, "xl/sharedStrings.xml", old["fingerprint"].encode(), fingerprint(payload).encode())
    if old.get("signature"):
        sig = key.sign(_canonical(payload)) if key else "0" * 64
        if drop_signature:
            sig = ""
        data = patch_zip(data, "xl/sharedStrings.xml", f"<t>{old['signature']}</t>".encode(), f"<t>{sig}</t>".encode())
    return data


@pytest.fixture
def two_units():
    a = Unit(code="100001", name="甲县科学技术协会", projects=[Project(code="P1", name="科普经费", budget=10.0)])
    b = Unit(code="100002", name="乙县科学技术协会", projects=[Project(code="P2", name="学会经费", budget=8.0)])
    return Roster(units=[a, b])


def filled(unit) -> bytes:
    fill = {"texts": {"overall_goal": "开展科普活动"},
            "projects": {"项目1": {"fields": {"goal": "完成年度任务", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100},
                                   "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "活动次数",
                                                   "description": "开展活动", "op": "≥", "num": "4", "unit": "次"}]}}}
    return make_workbook(unit, fill=fill)


def collected(tmp_path, data: bytes, roster=None, name="回执.xlsx"):
    inbox = tmp_path / "in"
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_bytes(data)
    return next(f for f in collect([inbox], roster=roster).files if f.display.endswith(name))


def test_a_genuine_return_verifies(tmp_path, two_units):
    rec = collected(tmp_path, filled(two_units.units[0]), two_units)
    assert rec.fate.startswith(ACCEPTED) and rec.verified
    assert not any(f.rule == "标识签名" for f in rec.result.findings)


def test_recomputed_checksum_as_another_unit_is_refused(tmp_path, two_units):
    """The attack of the hostile corpus: stamp and unit-name cells rewritten to a unit that has not reported."""
    a, b = two_units.units
    data = filled(a)

    def as_b(p):
        p["unit_code"], p["unit_name"] = b.code, b.name
        p["projects"][0].update(code=b.projects[0].code, name=b.projects[0].name, budget=8.0)

    forged = restamp(data, as_b)                                   # without the key: an old signature
    rec = collected(tmp_path, forged, two_units)
    assert rec.fate == REJECTED and rec.reason.startswith("标识无效") and "签名不符" in rec.reason
    rec = collected(tmp_path, restamp(data, as_b, drop_signature=True), two_units, "b.xlsx")
    assert rec.fate == REJECTED and rec.reason.startswith("标识无效") and "没有签名" in rec.reason


def test_a_key_from_another_machine_is_not_ours(tmp_path, two_units, monkeypatch):
    other = keys.new_key(tmp_path / "别的电脑.key")
    data = make_workbook(two_units.units[0], key=other)
    rec = collected(tmp_path, data, two_units)
    assert rec.fate == REJECTED and "另一把签名密钥" in rec.reason


def test_without_a_key_returns_are_read_and_the_user_is_told(tmp_path, two_units, monkeypatch):
    data = filled(two_units.units[0])
    monkeypatch.setenv("PERFTABLES_KEY", str(tmp_path / "没有这个文件.key"))
    rec = collected(tmp_path, data, two_units)
    assert rec.fate.startswith(ACCEPTED) and not rec.verified
    assert any(f.rule == "标识签名" and "没有签名密钥" in f.message for f in rec.result.findings)
    r = run("collect", str(tmp_path / "in"), "-o", str(tmp_path / "s.xlsx"))
    assert r.exit_code == 0 and "本机没有签名密钥" in r.output


@pytest.mark.parametrize("mutate, words", [
    (lambda p: p.update(year="二〇二五"), "年度"),
    (lambda p: p.update(year=25), "年度"),
    (lambda p: p.update(issue="第二版"), "版次"),
    (lambda p: p.pop("unit_code"), "unit_code"),
    (lambda p: p.update(unit_code=["x"]), "unit_code"),
    (lambda p: p.update(form="../pyproject"), "表式名称"),
    (lambda p: p.update(form="C:\\templates\\x"), "表式名称"),
    (lambda p: p.update(projects="全部"), "项目清单"),
    (lambda p: p.update(projects=[{"sheet": 1}]), "项目清单"),
    (lambda p: p["projects"][0].update(budget="十万"), "budget"),
    (lambda p: p.update(spares=[1, 2]), "备用工作表"),
    (lambda p: p.update(kind="virus"), "种类"),
    (lambda p: p.update(links="x"), "关联"),
])
def test_stamp_fields_of_the_wrong_shape_are_invalid(tmp_path, two_units, mutate, words):
    key = keys.load_key()
    data = restamp(filled(two_units.units[0]), mutate, key)       # even correctly signed
    rec = collected(tmp_path, data, two_units)
    assert rec.fate == REJECTED and rec.reason.startswith("标识无效") and words in rec.reason, rec.reason
    r = run("collect", str(tmp_path / "in"), "-o", str(tmp_path / "s.xlsx"),
            "--feedback", str(tmp_path / "退改"))
    assert r.exit_code == 0 and "Traceback" not in r.output


def test_feedback_with_the_stamp_sheet_deleted(tmp_path, roster):
    """A return whose stamp sheet was deleted is read by its labels; feedback for it is a message or a workbook."""
    import io
    import zipfile
    src = (EXAMPLES / "returns").glob("405002_*.xlsx").__next__().read_bytes()
    zin = zipfile.ZipFile(io.BytesIO(src))
    wb = zin.read("xl/workbook.xml").decode()
    import re
    stamp_rid = re.search(r'<sheet name="_stamp" sheetId="\d+"[^>]*r:id="(rId\d+)"/>', wb)
    assert stamp_rid
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                body = body.replace(stamp_rid.group(0).encode(), b"")
            z.writestr(info, body)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "唐山.xlsx").write_bytes(out.getvalue())
    r = run("collect", str(tmp_path / "in"), "-o", str(tmp_path / "s.xlsx"), "--roster",
            str(EXAMPLES / "roster.csv"), "--feedback", str(tmp_path / "退改"))
    assert r.exit_code == 0, r.output
    assert "无标识" in r.output or "未采用" in r.output


def test_the_stamped_unit_is_checked_against_the_roster(tmp_path, two_units):
    a, b = two_units.units
    renamed = Roster(units=[Unit(code=a.code, name="甲县科协（新名称）", projects=[Project(code="P9", name="别的项目")]), b])
    rec = collected(tmp_path, filled(a), renamed)
    messages = [f.message for f in rec.result.findings if f.rule == "名单核对"]
    assert any("甲县科协（新名称）" in m for m in messages) and any("P1" in m for m in messages)


def test_department_tables_are_not_checked_as_project_lists():
    """The department record is not a project: no 名单核对 warnings on the example department return."""
    from perftables.cli.demo import dept_roster
    col = collect([EXAMPLES / "dept" / "returns"], roster=dept_roster())
    assert not [f for f in col.accepted[0].result.findings if f.rule == "名单核对"]


def test_a_key_path_that_is_a_folder_or_missing_is_a_message_never_a_new_key(tmp_path, monkeypatch):
    """PERFTABLES_KEY naming a folder was 内部错误; naming a missing file made a new key there, and every
    template of the round became another key's. Both are messages now; nothing is written."""
    from conftest import ROOT
    roster = ROOT / "examples" / "roster.csv"
    (tmp_path / "密钥夹").mkdir()
    monkeypatch.setenv("PERFTABLES_KEY", str(tmp_path / "密钥夹"))
    r = run("generate", str(roster), "-o", str(tmp_path / "o1"), "--year", "2025")
    assert r.exit_code == 2 and "是一个文件夹" in r.output and "内部错误" not in r.output, r.output
    missing = tmp_path / "别处" / "签名密钥.key"
    monkeypatch.setenv("PERFTABLES_KEY", str(missing))
    r = run("generate", str(roster), "-o", str(tmp_path / "o2"), "--year", "2025")
    assert r.exit_code == 2 and "不存在" in r.output and "不会悄悄生成新密钥" in r.output and not missing.exists(), r.output
    assert not (tmp_path / "o2").exists() or not list((tmp_path / "o2").glob("*.xlsx"))


def test_feedback_without_the_key_is_refused_and_mints_none(tmp_path, two_units, monkeypatch):
    data = filled(two_units.units[0])
    monkeypatch.delenv("PERFTABLES_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "配置"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xlsx").write_bytes(data)
    r = run("collect", str(tmp_path / "in"), "-o", str(tmp_path / "s.xlsx"),
            "--feedback", str(tmp_path / "退改"))
    assert r.exit_code == 2 and "不能生成退改工作簿" in r.output, r.output
    assert not (tmp_path / "配置").exists() and not (tmp_path / "s.xlsx").exists()
