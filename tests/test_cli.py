import csv

import pytest

from conftest import EXAMPLES, make_workbook, run as conftest_run


def run(*args):
    return conftest_run(*args, catch_exceptions=False)


def test_forms_lists_one_line_each():
    from perftables.core.resources import TEMPLATES_DIR
    out = run("forms").output.splitlines()
    ids = [line.split()[0] for line in out if line and not line.startswith("指标体系")]
    assert ids == [p.stem for p in sorted(TEMPLATES_DIR.glob("*.toml"))]   # every packaged form, once
    assert any("mof2021" in line and "成本指标" in line for line in out)


def test_generate_and_collect(tmp_path):
    r = run("generate", str(EXAMPLES / "roster.csv"), "-o", str(tmp_path / "out"), "--year", "2025",
            "--password", "pw", "--extra-projects", "1", "--indicator-rows", "20")
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "发送清单.csv" in files and len(files) == 6
    r = run("collect", str(tmp_path / "out"), "-o", str(tmp_path / "s.xlsx"), "--roster",
            str(EXAMPLES / "roster.csv"), "--export", str(tmp_path / "csv"))
    assert r.exit_code == 0, r.output
    assert "共 6 个文件" in r.output and "发送清单.csv" in r.output     # even the CSV is accounted for
    status = list(csv.DictReader((tmp_path / "csv" / "报送情况.csv").open(encoding="utf-8-sig")))
    assert {row["状态"] for row in status} == {"未填写"}     # templates sent back as they were


def test_roster_errors_are_messages(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("单位编码,单位名称,项目编码,项目名称,预算数\n1,甲,P1,x,abc\n", encoding="utf-8")
    r = run("generate", str(bad), "-o", str(tmp_path / "o"), "--year", "2025")
    assert r.exit_code == 2 and "第2行“预算数”列：“abc”不是数字" in r.output


def test_output_never_overwrites_an_input(tmp_path, small_unit):
    (tmp_path / "a.xlsx").write_bytes(make_workbook(small_unit))
    r = run("collect", str(tmp_path), "-o", str(tmp_path / "a.xlsx"))
    assert r.exit_code == 2 and "覆盖" in r.output


def test_exports_never_start_a_formula(tmp_path, small_unit):
    fill = {"texts": {"overall_goal": "=HYPERLINK(\"http://x\",\"点我\")"},
            "projects": {"项目1": {"fields": {"goal": "+1+2", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100},
                                   "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "@SUM(A1)",
                                                   "description": "-2", "op": "≥", "num": "4", "unit": "次"}]}}}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xlsx").write_bytes(make_workbook(small_unit, fill=fill))
    r = run("collect", str(tmp_path / "in"), "-o", str(tmp_path / "s.xlsx"), "--export", str(tmp_path / "csv"))
    assert r.exit_code == 0, r.output
    for path in (tmp_path / "csv").glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8-sig")):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), (path.name, cell)
    import openpyxl
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


@pytest.mark.slow
def test_demo(tmp_path):
    r = run("demo", "-o", str(tmp_path / "d"))
    assert r.exit_code == 0, r.output
    assert "预算 20.48 万元" in r.output and "预算 3,208.40 万元" in r.output
    assert "预算 408.00 万元" in r.output and "预算 22.00 万元" in r.output
    assert "未报送：秦皇岛市北戴河区科普服务中心" in r.output
    summary = tmp_path / "d" / "3-汇总" / "汇总.xlsx"
    assert summary.is_file()
    import openpyxl
    wb = openpyxl.load_workbook(summary)
    assert wb.sheetnames == ["报送情况", "文件清单", "单位汇总", "项目汇总", "指标明细", "指标结构", "审核问题", "整体绩效目标"]
    units = wb["单位汇总"]
    assert units.freeze_panes == "A2" and units.auto_filter.ref
    total = [c.value for c in units[units.max_row]]
    assert total[0] == "合计" and total[2] == 17 and abs(total[3] - 3658.88) < 1e-6


def _run_on_terminal(cmd) -> str:
    """Run cmd with its stderr on a pseudo-terminal; what the terminal showed."""
    import os
    import pty
    import subprocess
    import threading

    master, slave = pty.openpty()
    shown = []

    def drain():
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    subprocess.run(cmd, stderr=slave, stdout=subprocess.DEVNULL, timeout=300, check=True)
    os.close(slave)
    reader.join(5)
    os.close(master)
    return b"".join(shown).decode("utf-8", "replace")


@pytest.mark.slow
def test_progress_bars_on_a_terminal_and_quiet_when_piped(tmp_path):
    import subprocess
    import sys

    gen = [sys.executable, "-m", "perftables", "generate", str(EXAMPLES / "roster.csv"), "-o", str(tmp_path / "out"),
           "--year", "2025"]
    col = [sys.executable, "-m", "perftables", "collect", str(tmp_path / "out"), "-o", str(tmp_path / "s.xlsx")]
    assert "生成" in _run_on_terminal(gen) and "100%" in _run_on_terminal(gen[:6] + [str(tmp_path / "again")] + gen[7:])
    piped = subprocess.run(col + ["--no-cache"], capture_output=True, timeout=300, check=True)
    assert b"100%" not in piped.stderr and "收集".encode() not in piped.stderr
    shown = _run_on_terminal(col)
    assert "收集" in shown and "100%" in shown
    assert "收件箱与上次相同，汇总未重写" in subprocess.run(col, capture_output=True, text=True, timeout=300).stdout


def test_department_cycle_from_the_command_line(tmp_path):
    from perftables.io.book import read_book

    dept = EXAMPLES / "dept"
    r = run("generate", str(dept / "名单.csv"), "-o", str(tmp_path / "2025"), "--year", "2025",
            "--department", str(dept / "部门数据.csv"), "--history", str(dept / "returns"))
    assert r.exit_code == 0, r.output
    made = sorted((tmp_path / "2025").glob("*部门整体绩效目标表.xlsx"))
    assert len(made) == 2
    rows = read_book(made[0].read_bytes()).sheets["部门整体绩效目标表"]
    buy = next(row for row in rows if row[3] == "政府采购执行率" and row[4] == "99.7%")
    assert buy[5] == "90%"                                   # 2024's target as this year's 上年指标值
    assert any(row[2] == "财政拨款" and row[3] == 599.83 for row in rows)
    r = run("selfeval", str(dept / "returns"), "-o", str(tmp_path / "自评"), "--year", "2024")
    assert r.exit_code == 0, r.output
    assert [p.name for p in (tmp_path / "自评").iterdir()] == ["704001_鄂州市科学技术协会_2024年部门整体支出绩效自评表.xlsx"]
    bad = tmp_path / "bad.csv"
    bad.write_text("单位编码,财政拨款,经费\n704001,abc,1\n", encoding="utf-8")
    r = run("generate", str(dept / "名单.csv"), "-o", str(tmp_path / "x"), "--year", "2025",
            "--department", str(bad))
    assert r.exit_code == 2 and "不认识的列 “经费”" in r.output


@pytest.mark.slow
def test_publishing_a_department_summary_says_to_use_the_inbox(tmp_path):
    dept = EXAMPLES / "dept"
    r = run("collect", str(dept / "returns"), "-o", str(tmp_path / "部门汇总.xlsx"), "--export", str(tmp_path / "csv"))
    assert r.exit_code == 0, r.output
    for source in (tmp_path / "部门汇总.xlsx", tmp_path / "csv"):
        r = run("publish", str(source), "-o", str(tmp_path / "pub"), "--no-pdf")
        assert r.exit_code == 2 and "请从收回的文件（收件箱）发布" in r.output
    r = run("publish", str(dept / "returns"), "-o", str(tmp_path / "pub"), "--no-pdf")
    assert r.exit_code == 2 and "没有通过审核，未发布" in r.output and "704001" in r.output   # the gate
    r = run("publish", str(dept / "returns"), "-o", str(tmp_path / "pub"), "--no-pdf", "--force")
    assert r.exit_code == 0 and "部门整体绩效目标.docx" in r.output and "经确认照常发布" in r.output
