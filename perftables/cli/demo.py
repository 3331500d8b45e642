"""demo: the bundled example round trip, from the roster to the county summary.

examples/seed_tables.json holds the seeds' tables as printed; the example
returns in examples/returns/ are those tables entered into the generated
templates (rebuild them with `python -m perftables.cli.demo --rebuild`).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from ..outputs.schema import Sheet
from ..core.errors import PerftablesError
from ..cycle.collect import collect
from ..core.files import write_bytes
from ..core.value import ValueKind
from ..model.scoring import ACHIEVED, PARTIAL
from ..cycle.selfeval import generate_selfeval
from ..cycle.generate import Options, file_name_for, fill_from_record, form_for_unit, generate, workbook_bytes
from ..model.roster import attach_department, read_department, read_roster
from ..outputs.summary import build_tables, write_csv, write_xlsx

from ..core.resources import EXAMPLES_DIR as EXAMPLES
from ..api.pipeline import CollectOptions, run_collect
from ..forms.form import load_form
from ..io.keys import EXAMPLE_KEY_NAME, demo as demo_key
from ..mail.send import DEFAULT_LETTER, mail_dir_for, plan_templates, write_drafts
from ..outputs.feedback import write_feedback
from ..outputs.publish import publish
from ..review.dept import dept_fill
YEAR = 2025
FIXED_TIME = dt.datetime(2025, 1, 10, 9, 30)


def enter_seeds(roster, seeds_file: Path, fill, year: int, outdir: Path) -> list[Path]:
    """Enter each transcribed seed table into its unit's generated template, as its clerk would."""
    seeds = json.loads(seeds_file.read_text(encoding="utf-8"))
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for record in seeds["units"]:
        unit = roster.unit(record["code"])
        form = form_for_unit(unit, None)
        data = workbook_bytes(form, unit, Options(year=year, created=FIXED_TIME), fill(form, record))
        path = outdir / file_name_for(form, unit, year)
        write_bytes(path, data)
        paths.append(path)
    return paths


def build_returns(outdir: Path, examples: Path = EXAMPLES) -> list[Path]:
    """The project seeds (000–003) entered into their units' templates."""
    return enter_seeds(read_roster(examples / "roster.csv"), examples / "seed_tables.json", fill_from_record, YEAR,
                       outdir)


# reference §5.6: 丰宁 科学技术普及经费, the worked example (→ 92.76, 优)
WORKED_EXAMPLE = {
    "fields": {"budget_total": 12.0, "spent_total": 11.6,
               "achieved": "全年开展科普专题活动3次，受疫情影响部分活动压缩规模，群众满意度88%。",
               "conclusion": "基本完成年度绩效目标，部分活动受天气影响。", "problems": "活动场地备选不足。",
               "improvements": "下年度提前落实备选场地。"},
    "indicators": [
        {"actual": 3}, {"actual": 85, "reason": "2次活动因天气改为线上，完成率未达目标；下年度增加备选场地。"},
        {"actual": 100}, {"actual": 11.6},
        {"actual": ACHIEVED, "score": 14, "reason": "宣传覆盖面仍可扩大，下年度增加进村入户场次。"},
        {"actual": PARTIAL, "score": 10, "reason": "常态化宣传机制尚未建立，下年度制定宣传计划。"},
        {"actual": 88, "reason": "部分群众对活动时间安排不满意，下年度提前征求意见。"},
    ]}
SHORT_REASON = "受场地和时间安排影响未完全达到目标，下年度提前谋划、加强调度。"


def selfeval_fill(unit, form) -> dict:
    """Plausible actuals for the seed projects: most targets met, every few a shortfall with its reason."""
    projects = {}
    for i, project in enumerate(unit.projects):
        sheet = form.meta["sheet_name"].format(seq=i + 1)
        if (unit.code, i) == ("307001", 0):
            projects[sheet] = WORKED_EXAMPLE
            continue
        rows = []
        for j, row in enumerate(project.extra["indicators"]):
            short = (i + j) % 5 == 3
            if row["kind"] == ValueKind.QUANT:
                t = row["t"]
                reverse = row.get("sign", row.get("op")) in ("≤", "<")
                actual = round(t * (0.95 if reverse else 0.9 if short else 1.0), 2)
                rows.append({"actual": actual, **({"reason": SHORT_REASON} if short and not reverse else {})})
            elif short:
                rows.append({"actual": PARTIAL, "score": round(row["weight"] * 0.7, 2), "reason": SHORT_REASON})
            else:
                rows.append({"actual": ACHIEVED, "score": row["weight"]})
        budget = project.budget or project.extra.get("start_total") or 0
        projects[sheet] = {"fields": {"budget_total": budget, "spent_total": round(budget * (0.97 if i % 3 else 1), 2),
                                      "achieved": "按计划完成年度目标任务。", "conclusion": "项目总体完成年度绩效目标。",
                                      "problems": "无", "improvements": "无"}, "indicators": rows}
    return {"projects": projects}


def build_selfeval_returns(targets, outdir: Path, year: int = YEAR, form_id: str | None = None) -> list[Path]:
    """Self-evaluations of the approved targets (project or department form, as the targets' own form says,
    or the form named)."""
    written = []
    for rec in targets:
        form = form_id or rec.form.meta.get("selfeval", "hebei-selfeval")
        written += [p for _, p in generate_selfeval([rec], outdir, Options(year=year, created=FIXED_TIME),
                                                    form_id=form, fills=selfeval_fill)]
    return written


def build_hunan_returns(outdir: Path, examples: Path = EXAMPLES) -> list[Path]:
    """The Hunan 申报表 (templates/hunan-project.toml) filled from examples/hunan/回执内容.json: a layout of
    another province, described by a file only, with its example return."""
    record = json.loads((examples / "hunan" / "回执内容.json").read_text(encoding="utf-8"))
    roster = read_roster(examples / "hunan" / "名单.csv")
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for code, fill in record["units"].items():
        unit = roster.unit(code)
        form = form_for_unit(unit, None)
        path = outdir / file_name_for(form, unit, record["year"])
        write_bytes(path, workbook_bytes(form, unit, Options(year=record["year"], created=FIXED_TIME), fill))
        written.append(path)
    return written


DEPT_YEAR = 2024   # seed 004 is 鄂州市科协's 2024 table


def dept_roster(examples: Path = EXAMPLES):
    """The Hubei example: a project roster on the department form, and the department figures."""

    roster = read_roster(examples / "dept" / "名单.csv")
    attach_department(roster, read_department(examples / "dept" / "部门数据.csv", load_form("hubei-dept")))
    return roster


def build_dept_returns(outdir: Path, examples: Path = EXAMPLES) -> list[Path]:
    """Seed 004 entered into its unit's generated department template."""

    return enter_seeds(dept_roster(examples), examples / "seed_dept.json", dept_fill, DEPT_YEAR, outdir)


class DemoError(PerftablesError):
    """The demo cannot run where it was asked to (a Chinese message)."""


MARKER = ".perftables-demo"


def _demo_folder(outdir: Path) -> None:
    """The demo writes only into an empty folder or one it made before (it re-runs over its own outputs)."""
    if outdir.exists() and not outdir.is_dir():
        raise DemoError(f"“{outdir}”是一个文件，演示需要一个文件夹")
    if outdir.is_dir() and any(outdir.iterdir()) and not (outdir / MARKER).is_file():
        raise DemoError(f"“{outdir}”里已有别的文件，演示不会写进去；请换一个新的文件夹（-o 演示）")
    outdir.mkdir(parents=True, exist_ok=True)
    write_bytes(outdir / MARKER, "perftables demo\n".encode())


def roll_up(inbox: Path, roster, summary: Path, export: Path, title: str):
    col = collect([inbox], roster=roster)
    tables = build_tables(col)
    write_xlsx(tables, summary, title=title)
    write_csv(tables, export)
    return col, tables


def run_demo(outdir: Path, examples: Path = EXAMPLES):
    """The whole cycle on the bundled examples, signed with the published example key (not the user's)."""

    with demo_key(examples / EXAMPLE_KEY_NAME):
        yield from _run_demo(outdir, examples)


def _run_demo(outdir: Path, examples: Path = EXAMPLES):
    outdir = Path(outdir)
    _demo_folder(outdir)
    roster = read_roster(examples / "roster.csv")
    col = yield from _target_round(outdir, examples, roster)
    yield from _selfeval_round(outdir, examples, roster, col)
    yield from _dept_round(outdir, examples)
    yield f"全部输出在：{outdir.resolve()}"


def _target_round(outdir: Path, examples: Path, roster):
    """下发 → 邮件 → 收回 → 汇总 → 退改 → 公开, on the four seed units; the collection, for the year end."""

    templates = outdir / "1-下发模板"
    generate(roster, templates, Options(year=YEAR, deadline=f"{YEAR - 1}年12月31日", contact="市科协计划财务部 0312-0000000"),
             overwrite=True)
    yield f"1. 下发：已为 {len(roster.units)} 个单位生成模板：{templates}"
    messages, _ = plan_templates(templates, roster, DEFAULT_LETTER, "{year}年度{form_title}（{unit_name}）",
                                 {"year": "", "form_title": "", "deadline": f"{YEAR - 1}年12月31日",
                                  "contact": "市科协计划财务部 0312-0000000", "sender": "市科协计划财务部",
                                  "date": f"{YEAR - 1}年12月1日"})
    drafts = write_drafts(messages, mail_dir_for(templates), "kx@example.cn", "市科协计划财务部")
    yield f"2. 邮件草稿 {len(drafts)} 封（附模板，Outlook/Foxmail 可直接打开）：{mail_dir_for(templates)}"
    returns = examples / "returns"
    if not returns.is_dir():
        returns = outdir / "收回文件"
        build_returns(returns, examples)
    yield f"3. 收回的文件（种子文本填入模板）：{returns}"
    summary = outdir / "3-汇总" / "汇总.xlsx"
    run = run_collect([returns], summary, CollectOptions(roster=roster, export_dir=outdir / "3-汇总" / "导出", workers=1))
    col = run.collection
    tables = build_tables(col)
    yield f"4. 汇总工作簿：{summary}（CSV：{outdir / '3-汇总' / '导出'}）"
    units = next(t for t in tables if t.name == Sheet.UNITS)
    yield "   单位汇总："
    for row in units.rows:
        yield f"   {row[0]} {row[1]}：{row[2]} 个项目，预算 {row[3]:,.2f} 万元，指标 {row[6]} 条，错误 {row[-2]}，警告 {row[-1]}"
    status = next((t for t in tables if t.name == Sheet.STATUS), None)
    if status:
        missing = [r[1] for r in status.rows if r[2] == "未报送"]
        yield "   未报送：" + ("、".join(missing) if missing else "无")
    feedback = write_feedback(col, outdir / "4-退改", deadline=f"{YEAR}年1月20日", contact="市科协计划财务部 0312-0000000")
    yield f"5. 退改工作簿 {len(feedback)} 份（问题单元格标红并批注，附审核意见文字）：{outdir / '4-退改'}"
    notes: list[str] = []
    published = publish(col, outdir / "5-公开", notes=notes)
    yield f"6. 公开文本 {len(published)} 个文件（每个单位的 docx、xlsx" + ("、pdf" if not notes else "") + \
        f"，全县汇总）：{outdir / '5-公开'}"
    for note in notes:
        yield f"   注意：{note}"
    return col


def _selfeval_round(outdir: Path, examples: Path, roster, col):
    """The year end: self-evaluations pre-filled from the approved targets, returned, scored, summed up."""
    blank = outdir / "6-自评下发"
    generate_selfeval(col.accepted, blank, Options(year=YEAR), overwrite=True)
    yield f"7. 已按批复的目标表生成自评表：{blank}"
    se_returns = examples / "selfeval_returns"
    if not se_returns.is_dir():
        se_returns = outdir / "自评收回"
        build_selfeval_returns(col.accepted, se_returns)
    _, se_tables = roll_up(se_returns, roster, outdir / "7-自评汇总" / "自评汇总.xlsx", outdir / "7-自评汇总" / "导出",
                           f"{YEAR}年绩效自评汇总")
    yield f"8. 自评汇总：{outdir / '7-自评汇总' / '自评汇总.xlsx'}"
    for row in next(t for t in se_tables if t.name == Sheet.UNIT_SCORES).rows:
        yield f"   {row[0]} {row[1]}：{row[2]} 个项目，执行率 {row[5]:.2%}，预算加权平均分 {row[6]}（{row[7]}）"


def _dept_round(outdir: Path, examples: Path):
    """The department-overall table (Hubei form, seed 004) and its self-evaluation."""
    droster = dept_roster(examples)
    generate(droster, outdir / "8-部门整体下发", Options(year=DEPT_YEAR, deadline=f"{DEPT_YEAR - 1}年12月31日"),
             overwrite=True)
    yield f"9. 已生成部门整体绩效目标表：{outdir / '8-部门整体下发'}"
    d_returns = examples / "dept" / "returns"
    if not d_returns.is_dir():
        d_returns = outdir / "部门整体收回"
        build_dept_returns(d_returns, examples)
    dcol, d_tables = roll_up(d_returns, droster, outdir / "9-部门整体汇总" / "部门整体汇总.xlsx",
                             outdir / "9-部门整体汇总" / "导出", f"{DEPT_YEAR}年部门整体绩效目标汇总")
    yield f"10. 部门整体汇总：{outdir / '9-部门整体汇总' / '部门整体汇总.xlsx'}"
    for row in next(t for t in d_tables if t.name == Sheet.DEPT_FUNDS).rows:
        yield (f"   {row[0]} {row[1]}：收入合计 {row[5]:,.2f} 万元，支出合计 {row[9]:,.2f} 万元，"
               f"项目清单合计 {row[-3]:,.2f} 万元，错误 {row[-2]}，警告 {row[-1]}")
    for f in (f for r in dcol.returns for f in r.findings):
        yield f"   【{f.severity}】{f.cell or f.sheet}：{f.message}"
    generate_selfeval(dcol.accepted, outdir / "10-部门整体自评下发", Options(year=DEPT_YEAR),
                      form_id="hubei-dept-selfeval", overwrite=True)
    d_se = examples / "dept" / "selfeval_returns"
    if not d_se.is_dir():
        d_se = outdir / "部门整体自评收回"
        build_selfeval_returns(dcol.accepted, d_se, DEPT_YEAR)
    _, dse_tables = roll_up(d_se, droster, outdir / "11-部门整体自评汇总" / "部门整体自评汇总.xlsx",
                            outdir / "11-部门整体自评汇总" / "导出", f"{DEPT_YEAR}年部门整体支出绩效自评汇总")
    yield f"11. 部门整体支出绩效自评汇总：{outdir / '11-部门整体自评汇总' / '部门整体自评汇总.xlsx'}"
    for row in next(t for t in dse_tables if t.name == Sheet.UNIT_SCORES).rows:
        yield f"   {row[0]} {row[1]}：执行率 {row[5]:.2%}，总分 {row[6]}（{row[7]}）"


if __name__ == "__main__":
    demo_key(EXAMPLES / EXAMPLE_KEY_NAME).__enter__()
    if "--rebuild" in sys.argv:   # the example returns are made anew (they are ours, not a unit's)
        for folder in ("returns", "selfeval_returns", "sichuan/selfeval_returns", "hunan/returns", "dept/returns",
                       "dept/selfeval_returns"):
            for old in (EXAMPLES / folder).glob("*.xlsx"):
                old.unlink()
        for p in build_returns(EXAMPLES / "returns"):
            print(p)
        targets = collect([EXAMPLES / "returns"], roster=read_roster(EXAMPLES / "roster.csv")).accepted
        for p in build_selfeval_returns(targets, EXAMPLES / "selfeval_returns"):
            print(p)
        for p in build_selfeval_returns(targets, EXAMPLES / "sichuan" / "selfeval_returns", form_id="sichuan-selfeval"):
            print(p)
        for p in build_hunan_returns(EXAMPLES / "hunan" / "returns"):
            print(p)
        for p in build_dept_returns(EXAMPLES / "dept" / "returns"):
            print(p)
        dept_targets = collect([EXAMPLES / "dept" / "returns"], roster=dept_roster()).accepted
        for p in build_selfeval_returns(dept_targets, EXAMPLES / "dept" / "selfeval_returns", DEPT_YEAR):
            print(p)
