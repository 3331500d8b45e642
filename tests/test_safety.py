"""Everyday mistakes end in a Chinese message or a correct result: never a lost file, never a silent
empty success, never an English or traceback line from the command line."""
import ast
import csv
import email
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from email import policy
from pathlib import Path

import click
import pytest

from conftest import run, EXAMPLES, make_workbook, seed_return
from perftables.cli import zh as clizh
from perftables.cli.main import cli

ROSTER = EXAMPLES / "roster.csv"
ENGLISH = re.compile(r"\b(Error|Usage|Missing|Invalid|Try|option|does not exist|Aborted|Traceback|Options)\b")


def tree(folder: Path) -> dict[str, str]:
    """Every file under folder with the SHA-256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith("~$perftables-")]


# --------------------------------------------------------------------------- the command line speaks Chinese

def test_every_text_click_can_show_is_translated():
    """Each text click looks up through gettext (found in its source) has a Chinese entry."""
    texts = []
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if args:
                    texts.append((node.func.id, args[0]))
    assert len(texts) > 50
    missing = [t for kind, t in texts if t not in (clizh.MESSAGES if kind == "_" else clizh.PLURALS)]
    assert not missing, missing


@pytest.mark.parametrize("args, expected", [
    (["generate"], "缺少 名单（ROSTER）、-o/--outdir、--year（在本轮文件夹中运行"),
    (["generate", "不存在.csv", "-o", "x", "--year", "2025"], "不存在"),
    (["generate", ROSTER, "-o", "x"], "缺少 --year"),
    (["collect", "-o", "s.xlsx"], "缺少 收件箱（INBOX）"),
    (["compare"], "缺少参数"),
    (["collect", "x", "-o", "s.xlsx", "--workers", "abc"], "不是有效的整数"),
    (["generate", ROSTER, "-o", "x", "--year", "2025", "--bogus"], "没有选项"),
    (["nosuch"], "没有命令"),
    (["mail", ".", "--roster", ROSTER, "--security", "tls"], "不是可选值"),
])
def test_usage_errors_are_chinese_with_exit_code_2(args, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert expected in r.output and "错误：" in r.output and "用法：" in r.output
    assert not ENGLISH.search(r.output), r.output


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_is_chinese_and_h_works(flag):
    for args in ([flag], *([name, flag] for name in cli.commands)):
        r = run(*args)
        assert r.exit_code == 0 and "用法：" in r.output and "显示本帮助后退出" in r.output
        assert not re.search(r"\b(Usage|Options|Show this message|required|default|TEXT|INTEGER|FLOAT|RANGE|"
                             r"BOOLEAN|DATETIME)\b", r.output), r.output


@pytest.mark.parametrize("year", ["25", "3025", "二〇二五", "2025.0", "１９９９"])
def test_years_are_checked_everywhere(year, tmp_path):
    for args in (["generate", ROSTER, "-o", tmp_path / "g", "--year", year],
                 ["collect", EXAMPLES / "returns", "-o", tmp_path / "s.xlsx", "--year", year],
                 ["selfeval", EXAMPLES / "returns", "-o", tmp_path / "e", "--year", year],
                 ["publish", EXAMPLES / "returns", "-o", tmp_path / "p", "--year", year],
                 ["mail", EXAMPLES / "returns", "--roster", ROSTER, "--year", year]):
        r = run(*args)
        assert r.exit_code == 2 and "--year" in r.output and "四位数字" in r.output, (args, r.output)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- generate never overwrites

def test_generate_refuses_to_overwrite_and_never_touches_a_filled_return(tmp_path, roster, seed_tables):
    out = tmp_path / "下发"
    assert run("generate", ROSTER, "-o", out, "--year", 2025).exit_code == 0
    before = tree(out)
    r = run("generate", ROSTER, "-o", out, "--year", 2025)
    assert r.exit_code == 2 and "已有 5 个同名文件" in r.output and "--overwrite" in r.output
    assert tree(out) == before
    # a unit's filled return saved over its template: named as such, and kept even with --overwrite
    filled = next(out.glob("405002_*.xlsx"))
    filled.write_bytes(seed_return(roster, seed_tables, "405002"))
    before = tree(out)
    for extra in ([], ["--overwrite"]):
        r = run("generate", ROSTER, "-o", out, "--year", 2025, *extra)
        assert r.exit_code == 2 and "（已填写的回执）" in r.output and filled.name in r.output, r.output
        assert tree(out) == before
    filled.unlink()
    r = run("generate", ROSTER, "-o", out, "--year", 2025, "--overwrite")
    assert r.exit_code == 0 and "共 5 个单位" in r.output
    assert no_temp_files(out)


@pytest.mark.slow
def test_generate_unit_reissues_only_that_unit(tmp_path):
    out = tmp_path / "下发"
    assert run("generate", ROSTER, "-o", out, "--year", 2025).exit_code == 0
    before = tree(out)
    time.sleep(1.1)   # a later creation time: the re-issued workbook differs
    r = run("generate", ROSTER, "-o", out, "--year", 2025, "--unit", "306001", "--deadline", "1月20日")
    assert r.exit_code == 0 and "共 1 个单位" in r.output, r.output
    after = tree(out)
    changed = {k for k in after if after[k] != before.get(k)}
    assert {k for k in changed if k.endswith(".xlsx")} == {next(k for k in after if k.startswith("306001_"))}
    listing = list(csv.DictReader((out / "发送清单.csv").open(encoding="utf-8-sig")))
    assert sorted(r["单位编码"] for r in listing) == ["306001", "306002", "307001", "405002", "731002"]
    r = run("generate", ROSTER, "-o", out, "--year", 2025, "--unit", "999999")
    assert r.exit_code == 2 and "999999" in r.output


# --------------------------------------------------------------------------- collect: inputs and outputs

def test_a_mistyped_inbox_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("collect", "nosuch", "-o", "s.xlsx")
    assert r.exit_code == 2 and "找不到输入：“nosuch”" in r.output
    (tmp_path / "空").mkdir()
    r = run("collect", "空", "-o", "s.xlsx")
    assert r.exit_code == 2 and "没有任何文件" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["空"]


def test_an_inbox_without_spreadsheets_says_so(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "说明.txt").write_text("请查收", encoding="utf-8")
    r = run("collect", tmp_path / "in", "-o", tmp_path / "s.xlsx")
    assert r.exit_code == 0 and "没有一个电子表格" in r.output and "说明.txt" in r.output
    r = run("collect", EXAMPLES / "returns", "-o", tmp_path / "t.xlsx")
    assert "没有一个电子表格" not in r.output


def test_outputs_over_inputs_are_refused_before_anything_is_written(tmp_path, small_unit):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    (inbox / "a.xlsx").write_bytes(make_workbook(small_unit))
    roster_xlsx = tmp_path / "名单.xlsx"
    shutil.copy(ROSTER, tmp_path / "名单.csv")
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(roster_xlsx))
    ws = wb.add_worksheet()
    for r, row in enumerate(csv.reader((EXAMPLES / "roster.csv").open(encoding="utf-8-sig"))):
        ws.write_row(r, 0, row)
    wb.close()
    before = tree(tmp_path)
    cases = [
        ["-o", roster_xlsx, "--roster", roster_xlsx],                     # the summary over the roster
        ["-o", inbox / "汇总.xlsx"],                                       # the summary inside the inbox
        ["-o", tmp_path / "s.xlsx", "--export", inbox / "导出"],
        ["-o", tmp_path / "s.xlsx", "--feedback", inbox / "退改"],
        ["-o", tmp_path / "s.xlsx", "--export", inbox],
        ["-o", inbox / "a.xlsx"],
        ["-o", tmp_path / "s.xlsx", "--export", tmp_path, "--roster", tmp_path / "名单.csv"],  # beside the roster
    ]
    for extra in cases:
        r = run("collect", inbox, *extra)
        assert r.exit_code == 2 and "请换一个位置" in r.output, (extra, r.output)
        assert tree(tmp_path) == before, extra
    r = run("collect", inbox / "a.xlsx", "-o", tmp_path / "汇总")
    assert r.exit_code == 2 and ".xlsx" in r.output


@pytest.mark.parametrize("command", ["generate", "selfeval", "publish", "mail"])
def test_every_command_refuses_outputs_inside_its_inputs(command, tmp_path):
    inbox = tmp_path / "in"
    shutil.copytree(EXAMPLES / "returns", inbox)
    shutil.copy(ROSTER, tmp_path / "名单.csv")
    before = tree(tmp_path)
    args = {"generate": ["generate", tmp_path / "名单.csv", "-o", tmp_path / "名单.csv" / "x", "--year", 2025],
            "selfeval": ["selfeval", inbox, "-o", inbox / "自评", "--year", 2025],
            "publish": ["publish", inbox, "-o", inbox / "公开"],
            "mail": ["mail", inbox, "--roster", tmp_path / "名单.csv", "--mail-dir", inbox / "草稿"]}[command]
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert tree(tmp_path) == before


# --------------------------------------------------------------------------- nothing half-written

def test_an_interrupted_summary_leaves_the_old_one_whole(tmp_path, monkeypatch):
    from perftables.outputs import summary
    from perftables.cycle.collect import collect

    out = tmp_path / "汇总.xlsx"
    col = collect([EXAMPLES / "returns"])
    tables = summary.build_tables(col)
    summary.write_xlsx(tables, out)
    good = out.read_bytes()

    def broken_rows():
        yield ["x"] * 3
        raise KeyboardInterrupt

    tables[2].iter_rows = broken_rows
    with pytest.raises(KeyboardInterrupt):
        summary.write_xlsx(tables, out)
    assert out.read_bytes() == good and no_temp_files(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        summary.write_csv(tables, tmp_path / "导出")
    assert not (tmp_path / "导出" / f"{tables[2].name}.csv").exists() and no_temp_files(tmp_path)


def test_generate_interrupted_leaves_no_partial_workbook(tmp_path, monkeypatch):
    from perftables.cycle import generate as g
    from perftables.cycle.generate import Options
    from perftables.model.roster import read_roster

    calls = []
    real = g.workbook_bytes

    def flaky(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(g, "workbook_bytes", flaky)
    with pytest.raises(KeyboardInterrupt):
        g.generate(read_roster(ROSTER), tmp_path, Options(year=2025), workers=1)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert len(written) == 2 and no_temp_files(tmp_path) and "发送清单.csv" not in written


def test_held_files_folder_and_its_list_belong_to_one_run(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name in ("a.txt", "b.rar", "c.docx"):
        (inbox / name).write_bytes(b"Rar!\x1a\x07\x00" if name.endswith(".rar") else b"not a workbook " + name.encode())
    out = tmp_path / "s" / "汇总.xlsx"
    assert run("collect", inbox, "-o", out).exit_code == 0
    held = out.parent / "待处理"
    assert len(list(held.glob("0*"))) == 3
    (inbox / "a.txt").unlink()
    (inbox / "c.docx").unlink()
    assert run("collect", inbox, "-o", out, "--no-cache").exit_code == 0
    listed = list(csv.DictReader((held / "待处理清单.csv").open(encoding="utf-8-sig")))
    copies = sorted(p.name for p in held.iterdir() if p.name != "待处理清单.csv")
    assert [r["副本"] for r in listed] == copies and len(copies) == 1 and "b.rar" in copies[0]
    (inbox / "b.rar").unlink()
    (inbox / "ok.txt").write_bytes(b"x")
    # a file the coordinator put into 待处理 is never swept away
    (held / "我的笔记.docx").write_bytes(b"mine")
    r = run("collect", inbox, "-o", out)
    assert r.exit_code == 2 and "我的笔记.docx" in r.output and (held / "我的笔记.docx").read_bytes() == b"mine"
    (held / "我的笔记.docx").unlink()
    assert run("collect", inbox, "-o", out).exit_code == 0
    assert [r["原文件"] for r in csv.DictReader((held / "待处理清单.csv").open(encoding="utf-8-sig"))] == ["in/ok.txt"]
    assert no_temp_files(tmp_path)


def test_a_template_sent_back_untouched_is_unfilled(tmp_path, small_unit):
    from perftables.model.roster import Roster
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "原样.xlsx").write_bytes(make_workbook(small_unit))
    (inbox / "自评.xlsx").write_bytes(make_workbook(small_unit))
    from perftables.cycle.collect import BLANK, collect
    col = collect([inbox], roster=Roster(units=[small_unit]))
    assert {f.fate for f in col.files} == {BLANK} and not col.accepted
    from perftables.outputs.summary import build_tables
    tables = {t.name: t for t in build_tables(col)}
    assert tables["报送情况"].rows[0][2] == BLANK and not tables["审核问题"].rows


def test_untouched_self_evaluation_and_department_templates_are_unfilled(tmp_path):
    from perftables.cycle.collect import BLANK, collect
    from perftables.cli.demo import dept_roster
    from perftables.cycle.generate import Options, generate
    from perftables.cycle.selfeval import generate_selfeval

    targets = collect([EXAMPLES / "returns"]).accepted
    generate_selfeval(targets, tmp_path / "se", Options(year=2025))
    generate(dept_roster(), tmp_path / "dept", Options(year=2024))
    for folder in ("se", "dept"):
        col = collect([tmp_path / folder])
        assert {f.fate for f in col.files if f.display.endswith(".xlsx")} == {BLANK}, folder
    # and the filled ones are not
    assert all(f.fate.startswith("已采用") for f in collect([EXAMPLES / "selfeval_returns"]).files)
    assert all(f.fate.startswith("已采用") for f in collect([EXAMPLES / "dept" / "returns"]).files)


# --------------------------------------------------------------------------- publish, mail, roster

def test_publish_refuses_an_empty_input(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_text("x")
    assert run("collect", tmp_path / "in", "-o", tmp_path / "s.xlsx").exit_code == 0
    for source in (tmp_path / "in", tmp_path / "s.xlsx"):
        r = run("publish", source, "-o", tmp_path / "pub", "--no-pdf")
        assert r.exit_code == 2 and "没有可公开的表" in r.output, r.output
    assert not (tmp_path / "pub").exists() or not list((tmp_path / "pub").iterdir())


@pytest.mark.slow
def test_publish_says_when_pdfs_are_skipped(tmp_path, monkeypatch):
    import perftables.outputs.publish as pub
    monkeypatch.setattr(pub, "find_soffice", lambda: None)
    r = run("publish", EXAMPLES / "returns", "-o", tmp_path / "pub", "--force")
    assert r.exit_code == 0 and "未生成 PDF：没有找到 LibreOffice" in r.output
    assert not list((tmp_path / "pub").glob("*.pdf")) and len(list((tmp_path / "pub").glob("*.docx"))) == 5


def test_mail_takes_year_and_form_from_the_templates(tmp_path):
    out = tmp_path / "下发"
    assert run("generate", ROSTER, "-o", out, "--year", 2026).exit_code == 0
    r = run("mail", out, "--roster", ROSTER, "--from", "kx@example.cn")
    assert r.exit_code == 0, r.output
    drafts = sorted((tmp_path / "下发_邮件").glob("*.eml"))
    assert len(drafts) == 5 and not list(out.glob("*.eml"))
    msg = email.message_from_bytes(drafts[0].read_bytes(), policy=policy.default)
    assert msg["X-Unsent"] == "1"
    assert msg["Subject"].startswith("2026年度项目支出绩效目标表（") and "2026年度项目支出绩效目标表" in \
        msg.get_body().get_content()


def test_a_text_file_named_xlsx_is_not_a_spreadsheet(tmp_path):
    fake = tmp_path / "名单.xlsx"
    fake.write_text("单位编码,单位名称\n1,甲\n", encoding="utf-8")
    r = run("generate", fake, "-o", tmp_path / "o", "--year", 2025)
    assert r.exit_code == 2 and "内容不是电子表格" in r.output and "缺少" not in r.output


def test_os_errors_are_messages_naming_the_path(tmp_path):
    if os.geteuid() == 0:   # root writes anywhere but into /sys
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no /sys here")
        ro = Path("/sys/kernel")
    else:
        ro = tmp_path / "只读"
        ro.mkdir()
        ro.chmod(0o500)
    try:
        r = run("generate", ROSTER, "-o", ro / "下发", "--year", 2025)
        assert r.exit_code == 2 and "无法写入" in r.output and str(ro) in r.output, r.output
        r = run("collect", EXAMPLES / "returns", "-o", ro / "汇总" / "汇总.xlsx")
        assert r.exit_code == 2 and "无法写入" in r.output and str(ro) in r.output, r.output
    finally:
        if ro.is_relative_to(tmp_path):
            ro.chmod(0o700)


def test_an_output_folder_that_is_a_file_is_a_message(tmp_path):
    (tmp_path / "f").write_text("x")
    r = run("collect", EXAMPLES / "returns", "-o", tmp_path / "f" / "s.xlsx")
    assert r.exit_code == 2 and "是一个文件" in r.output, r.output


# --------------------------------------------------------------------------- processes: spawn, Ctrl-C

SPAWN_SCRIPT = r"""
import multiprocessing, sys
from pathlib import Path
if __name__ == "__main__":
    multiprocessing.set_start_method("spawn", force=True)
    from perftables.cycle.generate import Options, generate
    from perftables.model.roster import read_roster
    from perftables.outputs import summary
    from perftables.api.pipeline import CollectOptions, run_collect
    import datetime as dt
    summary.SPLICE_ROWS, summary.CHUNK_WORK = 0, 20   # every table made by the workers, in several pieces
    import dataclasses
    out, workers = Path(sys.argv[1]), int(sys.argv[2])
    roster = read_roster(sys.argv[3])
    many = dataclasses.replace(roster, units=[
        dataclasses.replace(u, code=f"{u.code}{i}", projects=[dataclasses.replace(p, code=f"{p.code}{i}")
                                                            for p in u.projects])
        for i in range(3) for u in roster.units])
    generate(many, out / "下发 模板", Options(year=2025, created=dt.datetime(2025, 1, 1)), workers=workers)
    run_collect([sys.argv[4]], out / "汇总 输出" / "汇总.xlsx", CollectOptions(roster=roster, export_dir=out / "导出 CSV",
                workers=workers, use_cache=False))
"""


@pytest.mark.slow
def test_spawn_workers_give_the_same_files_as_a_serial_run(tmp_path):
    """Windows has no fork: every parallel step under `spawn` equals the serial run."""
    big = tmp_path / "名单 文件.csv"
    shutil.copy(ROSTER, big)
    inbox = tmp_path / "收件 箱"
    shutil.copytree(EXAMPLES / "returns", inbox)
    for i in range(4):   # enough files for the pool
        for p in (EXAMPLES / "returns").glob("*.xlsx"):
            shutil.copy(p, inbox / f"副本{i}_{p.name}")
    script = tmp_path / "spawn_run.py"
    script.write_text(SPAWN_SCRIPT, encoding="utf-8")
    results = {}
    for workers in (1, 2):
        out = tmp_path / f"输出 {workers}"
        subprocess.run([sys.executable, str(script), str(out), str(workers), str(big), str(inbox)], check=True,
                       timeout=600, cwd=tmp_path)
        with zipfile.ZipFile(out / "汇总 输出" / "汇总.xlsx") as z:
            sheets = {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")}
        assert b"inlineStr" in sheets["xl/worksheets/sheet5.xml"]   # 指标明细, made by the workers
        results[workers] = (tree(out / "下发 模板"), tree(out / "导出 CSV"), sheets)
    assert results[1] == results[2]
    assert len(results[1][0]) == 16 and "项目汇总.csv" in results[1][1]


def test_ctrl_c_exits_130_in_chinese_with_the_cursor_shown_and_nothing_half_written(tmp_path):
    import pty

    inbox = tmp_path / "in"
    inbox.mkdir()
    for i in range(60):
        for p in (EXAMPLES / "returns").glob("*.xlsx"):
            shutil.copy(p, inbox / f"{i:03d}_{p.name}")
    out = tmp_path / "s" / "汇总.xlsx"
    master, slave = pty.openpty()
    env = {**os.environ, "PERFTABLES_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "perftables", "collect", str(inbox), "-o", str(out), "--no-cache"],
                            stdout=subprocess.PIPE, stderr=slave, start_new_session=True, env=env)
    os.close(slave)
    shown = b""
    deadline = time.time() + 120
    while b"%" not in shown and time.time() < deadline:   # the progress bar is up
        shown += os.read(master, 4096)
    os.killpg(proc.pid, signal.SIGINT)   # as a terminal sends Ctrl-C: to the whole process group
    proc.wait(timeout=120)
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    text = shown.decode("utf-8", "replace")
    assert proc.returncode == 130, text
    assert "已中断" in text and "Traceback" not in text and "KeyboardInterrupt" not in text and "Aborted" not in text
    assert "\x1b[?25h" in text.split("已中断")[0][-40:] + text   # the cursor is shown again
    assert not out.exists() and no_temp_files(tmp_path)


@pytest.mark.parametrize("flag, value", [("--form", "../pyproject"), ("--form", "C:\\x"), ("--taxonomy", "../../etc/passwd"),
                                         ("--form", "nosuch")])
def test_form_and_taxonomy_ids_are_names_never_paths(tmp_path, flag, value):
    r = run("generate", ROSTER, "-o", tmp_path / "o", "--year", 2025, flag, value)
    assert r.exit_code == 2 and ("不对" in r.output or "未知表式" in r.output) and "Traceback" not in r.output, r.output
    assert not (tmp_path / "o").exists()


def test_a_mail_server_that_cannot_be_reached_is_exit_code_1(tmp_path, monkeypatch):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # nothing listens here once closed
    monkeypatch.setenv("PERFTABLES_SMTP_PASSWORD", "x")
    out = tmp_path / "下发"
    assert run("generate", ROSTER, "-o", out, "--year", 2025).exit_code == 0
    r = run("mail", out, "--roster", ROSTER, "--from", "kx@example.cn", "--send", "--smtp", "127.0.0.1", "--port",
            port, "--security", "none", "--interval", "0")
    assert r.exit_code == 1 and "连接或登录 SMTP 服务器失败" in r.output and "Traceback" not in r.output


def test_click_speaks_chinese_only_while_perftables_runs():
    """perftables' Chinese for click is put back afterwards: another click program in the process is untouched."""
    import click.core
    import click.types
    r = run("compare")
    assert "缺少参数" in r.output
    assert click.types.IntParamType.name == "integer" and click.core._("Missing argument") == "Missing argument"
