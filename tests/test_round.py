"""The round (issue 29): init, settings checked with file/line/key, commands without options inside a round, one
state in SQLite, the coordinator's decisions (void, accept, approve pins), the key never minted, the publish gate,
the board — each mistake of the issue as a test."""
from __future__ import annotations

import datetime as dt
import re
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT, corrected_return, returns_of, run
from perftables.core.dates import parse_date
from perftables.cycle.round import Round, find_round
from perftables.cycle.settings import SettingsError, read_settings
from perftables.cycle.state import StateError, StateStore
from perftables.io import keys
from perftables.model.roster import read_roster

ROSTER = EXAMPLES / "roster.csv"


def board(folder) -> dict[str, str]:
    r = run("status", "--round", folder)
    assert r.exit_code == 0, r.output
    return {line.split()[0]: line for line in r.output.splitlines() if line[:6].isdigit()}


# ------------------------------------------------------------------------------------------ init and settings

def test_init_makes_the_round_folder(round_dir):
    names = sorted(p.name for p in round_dir.iterdir())
    assert names == ["1-下发", "2-收件箱", "3-待处理", "4-退改", "5-汇总", "6-公开", "名单.csv", "本轮状态.sqlite",
                     "签名密钥.key", "设置.toml"]
    text = (round_dir / "设置.toml").read_text(encoding="utf-8")
    assert 'deadline = "2025-01-15"' in text and "# 报送截止日期" in text   # stored once, as a date
    settings = read_settings(round_dir / "设置.toml")
    assert settings.deadline == dt.date(2025, 1, 15) and settings.year == 2025
    rnd = find_round()
    assert rnd.folder == round_dir and rnd.title == "青溪县2025年项目支出绩效目标"
    example = keys.load_key(path=EXAMPLES / "示例签名密钥.key")
    assert rnd.key().id != example.id                                  # a key of its own, made here


def test_init_refuses_a_used_folder_and_the_example_key(tmp_path):
    (tmp_path / "旧").mkdir()
    (tmp_path / "旧" / "a.txt").write_text("x")
    r = run("init", tmp_path / "旧", "--year", 2025, "--form", "hebei-project", "--roster", ROSTER)
    assert r.exit_code == 2 and "不是空文件夹" in r.output
    r = run("init", tmp_path / "新", "--year", 2025, "--form", "hebei-project", "--roster", ROSTER,
            "--key", EXAMPLES / "示例签名密钥.key")
    assert r.exit_code == 2 and "示例密钥" in r.output and not (tmp_path / "新").exists()
    r = run("init", tmp_path / "新", "--year", 2025, "--form", "hebei-project", "--roster", ROSTER,
            "--deadline", "1月15日")
    assert r.exit_code == 2 and "不是日期" in r.output and not (tmp_path / "新").exists()


@pytest.mark.parametrize("typed", ["2025-01-15", "2025/1/15", "2025.1.15", "2025年1月15日", "２０２５年１月１５日"])
def test_dates_as_people_write_them(typed):
    assert parse_date(typed) == dt.date(2025, 1, 15)


@pytest.mark.parametrize("line, said", [
    ("yaer = 2025", "[round] yaer：不认识的设置"),
    ('deadline = "2025/13/40"', "[round] deadline：“2025/13/40”不是存在的日期"),
    ("deadline = 2025/1/15", "格式不对"),
    ('form = "no-such-form"', "[round] form："),
    ("year = \"2025\"", "[round] year：应是整数"),
])
def test_a_mistake_in_the_settings_names_file_line_and_key(round_dir, line, said):
    path = round_dir / "设置.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    key = line.split("=")[0].strip()
    at = next((i for i, x in enumerate(lines) if x.startswith(key + " =")), None)
    if at is None:   # a new (mistyped) key under [round]
        at = lines.index("[round]") + 1
        lines.insert(at, line)
    else:
        lines[at] = line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        read_settings(path)
    assert said in str(err.value) and str(path) in str(err.value)
    assert f"第 {at + 1} 行" in str(err.value)
    r = run("status")
    assert r.exit_code == 2 and said in r.output and "Traceback" not in r.output


# ------------------------------------------------------------------------------------------ the whole round

def test_a_whole_round_without_options(round_dir):
    r = run("generate")
    assert r.exit_code == 0, r.output
    made = sorted(p.name for p in (round_dir / "1-下发").glob("*.xlsx"))
    assert len(made) == len(read_roster(ROSTER).units)
    for code, data in returns_of(round_dir, ["306001", "307001", "405002", "731002"]).items():
        (round_dir / "2-收件箱" / f"{code}_回执.xlsx").write_bytes(data)
    r = run("collect")
    assert r.exit_code == 0, r.output
    assert (round_dir / "5-汇总" / "汇总.xlsx").is_file() and (round_dir / "5-汇总" / "导出").is_dir()
    assert any((round_dir / "4-退改").glob("306001_*.xlsx"))              # feedback for the units with errors
    lines = board(round_dir)
    assert "有问题" in lines["306001"] and "未发送" in lines["306001"]        # written, not sent
    import csv
    with open(round_dir / "5-汇总" / "导出" / "报送情况.csv", encoding="utf-8-sig") as fh:
        summary = {r["单位编码"]: r["进度"] for r in csv.DictReader(fh)}
    r = run("status", "--csv", round_dir / "进度.csv")
    with open(round_dir / "进度.csv", encoding="utf-8-sig") as fh:
        states = {r["单位编码"]: r["状态"] for r in csv.DictReader(fh)}
    assert summary == states and len(states) == 5                   # the board and the summary agree
    assert "未报送" in lines["306002"]
    assert run("approve", "307001", "405002", "--by", "张三").exit_code == 0
    assert "通过" in board(round_dir)["307001"]
    # the gate: units with errors, one not reported
    r = run("publish", "--no-pdf")
    assert r.exit_code == 2 and "未发布" in r.output, r.output
    assert "306001 秦皇岛市北戴河区科学技术协会(本级)：有 10 个错误未改" in r.output and "306002 " in r.output
    assert "405002 唐山市科学技术协会：" not in r.output and "731002 保定市科学技术协会（机关）：有" in r.output
    assert not any((round_dir / "6-公开").iterdir())
    r = run("publish", "--no-pdf", "--force")
    assert r.exit_code == 0, r.output
    county = next((round_dir / "6-公开").glob("青溪县2025年项目支出绩效目标汇总.docx"))
    import docx
    text = "\n".join(p.text for p in docx.Document(county).paragraphs)
    assert "青溪县2025年项目支出绩效目标汇总" in text and "青溪县财政局" in text and "经确认照常发布" in text


def test_another_units_workbook_is_held_until_the_coordinator_decides(round_dir):
    data = returns_of(round_dir, ["307001"])["307001"]
    # 306001's clerk filled 307001's workbook and sent it under its own name
    (round_dir / "2-收件箱" / "306001_我们的表.xlsx").write_bytes(data)
    r = run("collect")
    assert r.exit_code == 0, r.output
    assert "[待确认]" in r.output and "307001" in r.output and "306001" in r.output
    lines = board(round_dir)
    assert "待确认" in lines["306001"] and "待确认" in lines["307001"]   # on both units' lines
    assert run("approve", "307001").exit_code == 2                      # nothing of 307001's stands
    r = run("accept", "306001_我们的表.xlsx", "--by", "张三", "--note", "电话核实：代为转发")
    assert r.exit_code == 0, r.output
    r = run("collect")
    assert "[已采用" in r.output and "待确认" not in board(round_dir)["307001"]
    r = run("void", "306001_我们的表.xlsx")
    assert r.exit_code == 0
    r = run("collect")
    assert "[已作废]" in r.output and "协调人作废" in r.output
    assert "未报送" in board(round_dir)["307001"]
    assert (round_dir / "2-收件箱" / "306001_我们的表.xlsx").is_file()      # nothing moved by hand, nothing deleted


def test_void_withdraws_and_approve_pins_the_content(round_dir):
    first = returns_of(round_dir, ["307001"])["307001"]
    (round_dir / "2-收件箱" / "307001_a.xlsx").write_bytes(first)
    assert run("collect").exit_code == 0
    assert run("approve", "307001").exit_code == 0 and "通过" in board(round_dir)["307001"]
    # a different file for the unit later reopens it
    later = returns_of(round_dir, ["307001"], created=dt.datetime(2025, 1, 12, 9))["307001"]
    assert later != first
    (round_dir / "2-收件箱" / "307001_b.xlsx").write_bytes(later)
    assert run("collect").exit_code == 0
    assert "  通过  " not in board(round_dir)["307001"]
    # the newer one withdrawn: the approved one stands again
    assert run("void", "307001_b.xlsx").exit_code == 0
    assert run("collect").exit_code == 0
    assert "  通过  " in board(round_dir)["307001"]
    # every file voided: nothing to approve
    assert run("void", "307001_a.xlsx").exit_code == 0
    assert run("collect").exit_code == 0
    r = run("approve", "307001")
    assert r.exit_code == 2 and "还没有收到" in r.output


def test_a_second_pc_without_the_key_is_refused_and_mints_none(round_dir):
    (round_dir / "签名密钥.key").unlink()
    for args in (["generate"], ["collect"]):
        r = run(*args)
        assert r.exit_code == 2 and "本轮的签名密钥" in r.output and "备份" in r.output, r.output
    assert not (round_dir / "签名密钥.key").exists()
    assert not any((round_dir / "1-下发").iterdir())


def test_last_years_file_never_decides_the_year(round_dir, tmp_path, monkeypatch):
    data = returns_of(round_dir, ["307001", "405002"])
    old = returns_of(round_dir, ["306001", "731002"], year=2024)
    for code, body in {**data, **old}.items():
        (round_dir / "2-收件箱" / f"{code}.xlsx").write_bytes(body)
    r = run("collect")
    assert r.exit_code == 0 and r.output.count("年度不符：文件是 2024 年的，本次收集 2025 年") == 2, r.output
    # outside a round: files of two years without --year is the coordinator's question, never a majority
    r = run("collect", round_dir / "2-收件箱", "-o", tmp_path / "汇总.xlsx", "--round", tmp_path)
    assert r.exit_code == 2 and "不是本轮文件夹" in r.output
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFTABLES_KEY", str(round_dir / "签名密钥.key"))
    r = run("collect", round_dir / "2-收件箱", "-o", tmp_path / "汇总.xlsx")
    assert r.exit_code == 2 and "不同年度（2025 年 2 个，2024 年 2 个）" in r.output and "--year" in r.output, r.output
    assert run("collect", round_dir / "2-收件箱", "-o", tmp_path / "汇总.xlsx", "--year", 2025).exit_code == 0


def test_stale_feedback_is_never_sent(round_dir):
    first = returns_of(round_dir, ["731002"])["731002"]
    (round_dir / "2-收件箱" / "731002_first.xlsx").write_bytes(first)
    assert run("collect").exit_code == 0
    r = run("mail", "--feedback", "--dry-run")
    assert r.exit_code == 0 and "将发给 保定市科学技术协会（机关）" in r.output, r.output
    with keys.using(round_dir / "签名密钥.key"):
        fixed = corrected_return(round_dir / "2-收件箱" / "731002_first.xlsx")
    (round_dir / "2-收件箱" / "731002_fixed.xlsx").write_bytes(fixed)
    assert run("collect").exit_code == 0
    r = run("mail", "--feedback", "--dry-run")
    assert r.exit_code == 0, r.output
    # the first feedback answers a file the unit has replaced: never sent; the new file's own feedback is
    assert "（审核意见第1轮）.xlsx 针对的是单位已被替代（或已作废）的文件，不再发送" in r.output
    sent = [line for line in r.output.splitlines() if line.startswith("将发给")]
    assert len(sent) == 1 and "审核意见第2轮" in sent[0], r.output


def test_the_old_ledger_is_taken_in_once(round_dir):
    import json
    old = {"due": "2025-01-15", "events": [{"time": "2025-01-05 10:00:00", "unit": "306001", "event": "已下发"}]}
    (round_dir / "5-汇总" / "进度台账.json").write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    for _ in range(2):
        rnd = Round.load(round_dir)
        with rnd.store() as store:
            ledger = rnd.ledger(store)
            assert [e["event"] for e in ledger.of("306001")] == ["已下发"]
    assert "逾期" in board(round_dir)["306001"]          # the deadline is the round's


def test_two_processes_on_one_round_lose_nothing(round_dir):
    data = returns_of(round_dir, ["307001", "405002"])
    for code, body in data.items():
        (round_dir / "2-收件箱" / f"{code}.xlsx").write_bytes(body)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "perftables", "collect", "--no-cache", "--workers", "1"],
                              cwd=round_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for _ in range(2)]
    procs.append(subprocess.Popen([sys.executable, "-m", "perftables", "approve", "--all-clean"], cwd=round_dir,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    outs = [p.communicate(timeout=300)[0].decode("utf-8", "replace") for p in procs]
    assert all(p.returncode in (0, 2) for p in procs), outs
    assert procs[0].returncode == procs[1].returncode == 0, outs
    with StateStore(round_dir / "本轮状态.sqlite") as store:
        received = [e for e in store.events() if e["event"] == "已收到"]
        assert sorted(e["unit"] for e in received) == ["307001", "405002"]     # each once, none lost
        assert len(store.versions()) == 2


def test_a_network_share_is_refused(tmp_path, monkeypatch):
    import perftables.cycle.state as state
    monkeypatch.setattr(state, "network_share", lambda path: "cifs")
    with pytest.raises(StateError, match="网络共享"):
        StateStore(tmp_path / "x.sqlite")


def test_commands_outside_a_round_work_as_before(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_round() is None
    r = run("status")
    assert r.exit_code == 2 and "perftables init" in r.output
    r = run("generate", ROSTER, "-o", tmp_path / "下发", "--year", 2025)
    assert r.exit_code == 0, r.output


def test_a_selfevaluation_round_follows_its_target_round(round_dir, tmp_path, monkeypatch):
    from perftables.cli.demo import build_selfeval_returns
    from perftables.cycle.collect import collect
    for code, data in returns_of(round_dir, ["307001", "405002"]).items():
        (round_dir / "2-收件箱" / f"{code}.xlsx").write_bytes(data)
    assert run("collect").exit_code == 0
    se = tmp_path / "青溪县2025自评"
    r = run("init", se, "--year", 2025, "--form", "hebei-selfeval", "--roster", ROSTER, "--key",
            round_dir / "签名密钥.key", "--targets", round_dir / "5-汇总" / "汇总.xlsx", "--deadline", "2026/3/31")
    assert r.exit_code == 0 and "perftables selfeval" in r.output, r.output
    assert 'targets = "../青溪县2025目标/5-汇总/汇总.xlsx"' in (se / "设置.toml").read_text(encoding="utf-8")
    monkeypatch.chdir(se)
    assert "请运行 perftables selfeval" in run("generate").output
    r = run("selfeval")
    assert r.exit_code == 0, r.output
    assert sorted(p.name[:6] for p in (se / "1-下发").glob("*.xlsx")) == ["307001", "405002"]
    with keys.using(se / "签名密钥.key"):
        targets = collect([round_dir / "2-收件箱"], year=2025).accepted
        build_selfeval_returns([t for t in targets if t.unit_code == "307001"], se / "2-收件箱")
    r = run("collect")
    assert r.exit_code == 0 and "[已采用" in r.output, r.output
    lines = board(se)
    assert "已收到" in lines["307001"] and "未报送" in lines["405002"]


def test_a_department_round(tmp_path, monkeypatch):
    from perftables.cli.demo import DEPT_YEAR, build_dept_returns
    folder = tmp_path / "部门整体"
    r = run("init", folder, "--year", DEPT_YEAR, "--form", "hubei-dept", "--roster", EXAMPLES / "dept" / "名单.csv",
            "--department", EXAMPLES / "dept" / "部门数据.csv")
    assert r.exit_code == 0, r.output
    monkeypatch.chdir(folder)
    r = run("generate")
    assert r.exit_code == 0 and len(list((folder / "1-下发").glob("*.xlsx"))) == 2, r.output
    with keys.using(folder / "签名密钥.key"):
        build_dept_returns(folder / "2-收件箱")
    r = run("collect")
    assert r.exit_code == 0 and "[已采用" in r.output, r.output
    lines = board(folder)
    assert ("  已收到" in lines["704001"] or "  有问题" in lines["704001"]) and "未报送" in lines["704002"]


def test_a_mailed_workbook_of_another_unit_and_lateness_by_the_servers_clock(round_dir, imap_server):
    """Fetched inside the round (its [fetch] settings): 306001's address sends 307001's workbook — 待确认, naming
    both; a mail dated before the deadline by the sender's clock but received after it is late."""
    from test_fetch import PASSWORD, mail, rfc2231_part
    settings = round_dir / "设置.toml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace('imap = ""', 'imap = "127.0.0.1"').replace('user = ""    # 登录名（邮箱地址',
                                                                    'user = "kx@example.cn"    # 登录名（邮箱地址')
    text = text.replace(
        'port = 0    # 端口（0：按加密方式默认）\nsecurity = "ssl"    # 加密方式：ssl / starttls\n',
        f'port = {imap_server.ssl_port}    # 端口\nsecurity = "ssl"    # 加密方式：ssl / starttls\n')
    settings.write_text(text, encoding="utf-8")
    data = returns_of(round_dir, ["307001", "405002"])
    imap_server.deliver("kx@example.cn", mail("bdhkx@example.cn", "我们的表", [rfc2231_part("表.xlsx", data["307001"])],
                                              "<a@bdh>", date="Mon, 13 Jan 2025 09:30:00 +0800"))
    imap_server.deliver("kx@example.cn", mail("tskx@example.cn", "唐山", [rfc2231_part("唐山.xlsx", data["405002"])],
                                              "<b@ts>", date="Tue, 14 Jan 2025 09:30:00 +0800"),
                        received=dt.datetime(2025, 1, 17, 9, 0))
    env = {"PERFTABLES_IMAP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(imap_server.cert)}
    r = run("fetch", env=env)
    assert r.exit_code == 0 and "保存附件 2 个" in r.output, r.output
    r = run("collect")
    assert r.exit_code == 0, r.output
    assert "[待确认]" in r.output and "按发件人邮箱 bdhkx@example.cn" in r.output
    lines = board(round_dir)
    assert "待确认" in lines["306001"] and "待确认" in lines["307001"]
    assert "逾期 2 天" in lines["405002"]          # received 1月17日, the deadline 1月15日; its Date header said 14日
    with StateStore(round_dir / "本轮状态.sqlite") as store:
        mailed = {v["claimed"]: v for v in store.versions()}
    assert mailed["405002"]["channel"] == "邮件" and "Message-ID <b@ts>" in mailed["405002"]["detail"]
    assert mailed["405002"]["arrived"].startswith("2025-01-17 09:00")     # the server's time, recorded


def _round_with_returns(round_dir):
    for code, data in returns_of(round_dir, ["306001", "307001", "405002", "731002"]).items():
        (round_dir / "2-收件箱" / f"{code}_回执.xlsx").write_bytes(data)
    assert run("collect").exit_code == 0


def test_the_summary_prints_with_the_rounds_heading(round_dir):
    import openpyxl
    _round_with_returns(round_dir)
    wb = openpyxl.load_workbook(round_dir / "5-汇总" / "汇总.xlsx")
    for ws in wb.worksheets:
        header = ws.oddHeader
        assert "青溪县2025年项目支出绩效目标汇总" in header.center.text and "青溪县财政局" in header.left.text
        assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", header.right.text.strip()), header.right.text
        assert "第 &P 页" in ws.oddFooter.center.text
    ws = wb["报送情况"]
    assert ws.print_area == "'报送情况'!$A$1:$L$6"                     # 单位编码 … 联系电话, every unit
    assert [c.value for c in ws[1]][:12] == ["单位编码", "单位名称", "状态", "进度", "报送次数", "逾期天数", "项目数",
                                             "错误数", "警告数", "确认通过（填“是”）", "联系人", "联系电话"]
    assert all((ws.row_dimensions[r].height or 15) <= 27 for r in range(2, 7))   # one or two lines a row
    borders = [r for rng in ws.conditional_formatting for r in rng.rules if r.dxf and r.dxf.border]
    assert borders and ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_status_sheet_renders_as_filed(round_dir, tmp_path):
    """Rendered by LibreOffice: the first page is 报送情况 with the round's title, issuer and date, one page wide,
    each unit on one line; looked at as PNG when it was made (docs/img)."""
    _round_with_returns(round_dir)
    out = tmp_path / "pdf"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(out), str(round_dir / "5-汇总" / "汇总.xlsx")], check=True, capture_output=True,
                   timeout=180)
    text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(out / "汇总.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "青溪县2025年项目支出绩效目标汇总" in text and "报送情况" in text and "青溪县财政局" in text
    lines = [line for line in text.splitlines() if re.match(r"\s*\d{6}\s", line)]
    assert [line.split()[0] for line in lines] == ["306001", "405002", "731002", "307001", "306002"]
    assert all("0335-4041234" in line for line in lines[:1]) and "第 1 页" in text
    assert "SHA" not in text and "@example.cn" not in text         # files, hashes and addresses stay on screen


def test_mail_inside_the_round_takes_its_settings_and_records_what_was_sent(round_dir, smtp_server):
    outbox, port = smtp_server
    settings = round_dir / "设置.toml"
    text = settings.read_text(encoding="utf-8")
    for key, value in (("sender", '"kx@example.cn"'), ("sender_name", '"青溪县财政局预算科"'), ("smtp", '"127.0.0.1"'),
                       ("security", '"none"'), ("interval", "0")):
        text = re.sub(rf'(?m)^{key} = [^#]*#', f"{key} = {value}    #", text, count=1)   # the first: [mail]
    text = re.sub(r"(?m)^port = 0 ", f"port = {port} ", text, count=1)
    settings.write_text(text, encoding="utf-8")
    assert run("generate").exit_code == 0
    r = run("mail", "--send")
    assert r.exit_code == 0 and "已发送 5 封" in r.output, r.output
    assert {to[0] for to, _ in outbox.messages} >= {"bdhkx@example.cn", "fnkx@example.cn"}
    assert "于2025年1月15日前" in outbox.messages[0][1].get_body().get_content()      # the round's deadline
    assert "青溪县财政局预算科" in str(outbox.messages[0][1]["From"])
    with StateStore(round_dir / "本轮状态.sqlite") as store:
        assert sorted(e["unit"] for e in store.events() if e["event"] == "已下发") == [
            "306001", "306002", "307001", "405002", "731002"]
    r = run("mail", "--send")                                    # never twice
    assert r.exit_code == 0 and "已发送 0 封" in r.output and len(outbox.messages) == 5


def test_long_names_in_a_round_lose_nothing(round_dir):
    """Names are limited in bytes: a unit named with 100 Chinese characters, a return saved with an 80-character
    name (240 bytes: as long as the file system allows), a zip whose members have 120-character names — generate, collect, 待处理, 退改 and the board all go
    on, every name we write fits 255 bytes, and every input is accounted for."""
    import zipfile
    roster = (round_dir / "名单.csv").read_text(encoding="utf-8-sig")
    long_unit = "青" * 100
    assert "秦皇岛市北戴河区科普服务中心" in roster
    (round_dir / "名单.csv").write_text(roster.replace("秦皇岛市北戴河区科普服务中心", long_unit), encoding="utf-8-sig")
    r = run("generate")
    assert r.exit_code == 0, r.output
    data = returns_of(round_dir, ["306001", "307001"])
    inbox = round_dir / "2-收件箱"
    (inbox / ("报" * 80 + ".xlsx")).write_bytes(data["306001"])
    with zipfile.ZipFile(inbox / "打包.zip", "w") as z:
        z.writestr("表" * 120 + ".xlsx", data["307001"])
        z.writestr("废" * 120 + ".xlsx", b"not a workbook")
        z.writestr("废" * 119 + "纸.xlsx", b"not a workbook either")
    r = run("collect")
    assert r.exit_code == 0 and "文件名太长" not in r.output and "Traceback" not in r.output, r.output
    lines = board(round_dir)
    assert "有问题" in lines["306001"] and "未报送" not in lines["307001"] and "未报送" in lines["306002"]
    assert any((round_dir / "4-退改").glob("306001_*.xlsx"))
    held = [p.name for p in (round_dir / "3-待处理").iterdir()]
    assert len([n for n in held if n.endswith(".xlsx")]) == 2 and "待处理清单.csv" in held, held
    assert run("mail").exit_code == 0                                    # the drafts, named by unit
    assert any(long_unit[:20] in p.name for p in (round_dir / "1-下发_邮件").iterdir())
    written = [p for p in round_dir.rglob("*") if p.parent != inbox]
    assert all(len(p.name.encode()) <= 255 for p in written), max(written, key=lambda p: len(p.name.encode()))
    assert any(long_unit[:20] in p.name for p in (round_dir / "1-下发").iterdir())
