"""The perftables command line: a thin click layer over the library.

Exit codes: 0 done; 1 the work failed (disk full, a file in use, an internal error); 2 bad input or
usage (a missing file, an output over an input, a mistyped option); 130 interrupted (Ctrl-C).
Every message is Chinese, click's own included (cli.zh, while a command runs).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import multiprocessing
import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from ..core.kinds import FormKind, TARGET_KINDS
from ..core.dates import chinese
from ..core.version import __version__

from . import zh as clizh
from ..core.errors import PerftablesError
from ..core.files import check_writable, describe_os_error, guard_outputs, write_csv
from ..forms.form import (FormError, broken_forms, list_forms, list_taxonomies, load_form, load_form_file, load_taxonomy, with_templates)
from ..model.roster import attach_department, read_department, read_roster
from ..api.console import upload_links
from ..api.pipeline import CollectOptions, read_collection, run_collect
from ..cycle.board import publish_blockers
from ..cycle.cache import cache_path_for
from ..cycle.collect import BLANK, Collection, collect as run, walk_inputs
from ..cycle.generate import form_for_unit, generate as generate_templates, Options
from ..cycle.ledger import Ledger, ledger_path
from ..cycle.selfeval import generate_selfeval, read_execution
from ..mail import fetch as mail_fetch, send as mail_send
from ..outputs.history import read_history
from ..outputs.lastyear import attach, last_year_returns
from ..outputs.schema import is_dept_summary, is_summary
from ..outputs.publish import publish as run_publish
from ..outputs.schema import Heading
from ..outputs.summary import returns_from_summary, write_xlsx
from ..review.dept import attach_history
from .demo import run_demo
from .rounds import COMMANDS as ROUND_COMMANDS, DATE, round_aware
from ..io.book import SPREADSHEETS
from ..io.keys import KEY_ENV, key_path, require_key
from ..outputs.data import _arrow
from ..forms.schema import json_schema


EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
CONTEXT = {"help_option_names": ["-h", "--help"]}


class UserError(click.ClickException):
    """Bad input: a message, exit code 2."""
    exit_code = EXIT_USAGE


class Failed(click.ClickException):
    """The work failed for a reason outside the input (a server down): a message, exit code 1."""
    exit_code = EXIT_FAILED


class Year(click.ParamType):
    """A budget year: four digits, 2000–2099."""
    name = "年度"

    def convert(self, value, param, ctx):
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            self.fail(f"“{value}”不是年份，应写四位数字，如 2025", param, ctx)
        year = int(text)
        if not 2000 <= year <= 2099:
            self.fail(f"“{value}”不是合理的预算年度，应写四位数字，如 2025", param, ctx)
        return year


YEAR = Year()


class App(click.Group):
    """The group: every failure a Chinese message with its exit code, never a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        with clizh.chinese():   # click speaks Chinese while perftables runs, and only then
            return self._main(args, prog_name, complete_var, standalone_mode, **extra)

    def _main(self, args, prog_name, complete_var, standalone_mode, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name or "perftables", complete_var, False, **extra)
        except click.ClickException as exc:
            exc.show()
            plain = type(exc) is click.ClickException   # click's own input errors: usage
            sys.exit(EXIT_USAGE if plain else exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            _restore_terminal()
            click.echo("\n已中断：没有写完的文件都已丢弃，已写完的文件完整可用；可以重新运行。", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except PerftablesError as exc:   # every error of ours: its message, its exit code (2 input, 1 world)
            _restore_terminal()
            click.echo(f"错误：{exc}", err=True)
            sys.exit(exc.exit_code)
        except sqlite3.Error as exc:
            click.echo(f"错误：数据库文件无法读写（{exc}）", err=True)
            sys.exit(EXIT_FAILED)
        except OSError as exc:
            _restore_terminal()
            click.echo(f"错误：{describe_os_error(exc)}", err=True)
            sys.exit(EXIT_FAILED)
        except MemoryError:
            click.echo("错误：内存不足。可减少并行进程数（--workers 2）或分批处理后重试。", err=True)
            sys.exit(EXIT_FAILED)
        except Exception as exc:   # a bug of ours: a message and a report file, never a traceback
            _restore_terminal()
            if os.environ.get("PERFTABLES_DEBUG"):
                raise
            report = _crash_report(exc)
            click.echo(f"perftables 内部错误（{type(exc).__name__}）。请把这个文件发给维护者：{report}", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(rv if isinstance(rv, int) else 0)


def _restore_terminal() -> None:
    """A progress bar hides the cursor until it ends: show it again after an interruption."""
    if sys.stderr.isatty():
        sys.stderr.write("\033[?25h")
        sys.stderr.flush()


def _crash_report(exc: BaseException) -> str:
    import tempfile
    import traceback
    try:
        fd, path = tempfile.mkstemp(prefix="perftables-错误报告-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"perftables {__version__}  {_dt.datetime.now():%Y-%m-%d %H:%M:%S}\n{sys.argv}\n\n")
            fh.write("".join(traceback.format_exception(exc)))
        return path
    except OSError:
        return "（无法写出错误报告）"


@contextmanager
def progress(total: int, label: str):
    """A progress bar on a terminal (its update function), nothing when piped."""
    if not sys.stderr.isatty() or total <= 0:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def guard(outputs: dict, inputs=(), reads=()) -> None:
    guard_outputs(outputs, inputs, reads, folders=[k for k in outputs if "文件夹" in k])


def writable(folder, what: str = "输出文件夹") -> None:
    check_writable(folder, what)


def missing_inputs(paths) -> None:
    """A mistyped inbox or file is an error before anything is written."""
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise UserError("找不到输入：" + "、".join(f"“{m}”" for m in missing) + "（路径写错了？）")


@click.group(cls=App, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="perftables")
def cli():
    """perftables：预算绩效目标表的下发、回收、审核与汇总。

    \b
    退出码：0 完成；1 执行失败（磁盘满、文件被占用等）；2 输入或用法有误；130 被中断（Ctrl-C）。
    """


def _use_templates(ctx, param, value):
    """--templates DIR (may be given several times): the user's form folders, searched before the packaged
    ones — for this process and the worker processes it starts (through PERFTABLES_TEMPLATES)."""
    if value:
        ctx.with_resource(with_templates(value))
    return value


templates_option = click.option(
    "--templates", multiple=True, type=click.Path(exists=True, file_okay=False), expose_value=False,
    is_eager=True, callback=_use_templates,
    help="自己的表式描述文件夹（可给多次），先于内置表式查找；也可用环境变量 PERFTABLES_TEMPLATES")


@cli.command()
@click.option("--check", "check", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="检查这些表式描述文件（可给多次），有错误时退出码为 2")
@click.option("--schema", is_flag=True, help="输出表式描述的 JSON Schema（供编辑器边写边查）")
@templates_option
def forms(check, schema):
    """列出可用的表式和指标体系；--check 检查表式描述文件；--schema 输出 JSON Schema。

    \b
    示例：
        perftables forms
        perftables forms --templates 我的表式/
        perftables forms --check 我的表式/hunan-project.toml
        perftables forms --schema > form.schema.json
    """

    if schema:
        import json

        click.echo(json.dumps(json_schema(), ensure_ascii=False, indent=1))
        return

    if check:
        bad = 0
        for name in check:
            path = Path(name).resolve()
            try:
                with with_templates([path.parent]):   # what it extends or names may lie beside it
                    form = load_form_file(path)
                click.echo(f"通过：{name}（{form.id}：{form.name}）")
            except FormError as exc:
                bad += 1
                click.echo(f"有错误：{name}", err=True)
                for line in str(exc).splitlines():
                    click.echo(f"  {line}", err=True)
        if bad:
            raise click.exceptions.Exit(EXIT_USAGE)
        return
    for form in list_forms():
        click.echo(f"{form.id:<20} {form.name}（{form.version} 版，默认指标体系 {form.taxonomy_id}；{form.path}）")
    click.echo("")
    for tax in list_taxonomies():
        click.echo(f"指标体系 {tax.id:<12} {tax.name}：" + "、".join(l.name for l in tax.level1))
    broken = broken_forms()
    if broken:
        click.echo("", err=True)
        click.echo(f"有 {len(broken)} 个表式描述有错误，未列出（用 perftables forms --check 文件 查看详情）：", err=True)
        for path, message in broken:
            first = message.splitlines()[0]
            click.echo(f"  {first if str(path) in first else f'{path}：{first}'}", err=True)


@cli.command()
@click.argument("roster", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--outdir", type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--year", type=YEAR, help="预算年度，如 2025")
@click.option("--form", "form_id", default=None, help="表式（见 perftables forms）；名单中“表式”列优先")
@click.option("--taxonomy", default=None, help="指标体系：classic / effect / mof2021；名单中“指标体系”列优先")
@click.option("--password", default=None, help="工作表保护密码（可不设）")
@click.option("--extra-projects", type=click.IntRange(0, 50), default=None, help="每个单位附加的空白“新增项目”表数")
@click.option("--indicator-rows", type=click.IntRange(1, 500), default=None, help="每个项目表的指标行数")
@click.option("--deadline", default="", help="填报截止时间，写入填报说明")
@click.option("--contact", default="", help="联系人及电话，写入填报说明")
@click.option("--department", type=click.Path(exists=True, dir_okay=False), default=None,
              help="部门整体表的部门数据（CSV/xlsx，列名即表上的名称，如“财政拨款”“财政拨款（上年）”“填报人”）")
@click.option("--history", multiple=True, type=click.Path(exists=True),
              help="往年收回的部门整体表（收件箱、汇总工作簿或导出文件夹，可给两次）：预填并锁定近两年指标值")
@click.option("--from", "last_year", multiple=True, type=click.Path(exists=True),
              help="去年收回的目标表：收件箱、汇总工作簿、导出文件夹或公开的文本文件夹（可给多次）；"
                   "继续的项目预填去年的绩效目标和指标（可修改），对照见输出文件夹里的“去年对照.csv”")
@click.option("--unit", "units", multiple=True, help="只为这些单位编码重新生成（可给多次），其他单位的文件不动")
@click.option("--overwrite", is_flag=True, help="覆盖输出文件夹里同名的空白模板（已填写的回执从不覆盖）")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="并行进程数（默认用满全部 CPU；1 为串行）")
@templates_option
@round_aware("generate", required={"roster": "名单（ROSTER）", "outdir": "-o/--outdir", "year": "--year"}, key=True)
def generate(roster, outdir, year, form_id, taxonomy, password, extra_projects, indicator_rows, deadline, contact,
             department, history, last_year, units, overwrite, workers, rnd):
    """按名单为每个单位生成一份锁定的绩效目标表工作簿。

    \b
    输出文件夹里已有同名文件时不覆盖（除非加 --overwrite；已填写的回执任何时候都不覆盖）。
    示例：
        perftables generate examples/roster.csv -o 下发 --year 2025 --deadline "2025年1月15日"
        perftables generate examples/roster.csv -o 下发 --year 2025 --unit 306001    （只重发一个单位）
        perftables generate 名单2026.csv -o 下发2026 --year 2026 --from 2025汇总.xlsx    （从去年的表开始）
        perftables generate    （在本轮文件夹中：一切取自设置.toml）
    """

    if rnd is not None and rnd.kind.is_selfeval:
        raise UserError(f"本轮是{rnd.kind.title}（表式 {rnd.settings.form}）：请运行 perftables selfeval")
    guard({"输出文件夹": outdir}, inputs=[*history, *last_year], reads=[roster, department])
    require_key("生成模板")
    if form_id:   # a mistyped form or taxonomy: said before anything
        load_form(form_id)
    if taxonomy:
        load_taxonomy(taxonomy)
    ros = read_roster(roster)
    if department or history:
        _attach_department_data(ros, form_id, department, history, year)
    carried = _carry_last_year(ros, last_year, year, form_id, taxonomy) if last_year else None
    writable(outdir)
    opts = Options(year=year, password=password, extra_projects=extra_projects, indicator_rows=indicator_rows,
                   deadline=deadline, contact=contact, created=_dt.datetime.now().replace(microsecond=0))
    n = len(units) if units else len(ros.units)
    with progress(n, "生成") as tick:
        written = generate_templates(ros, outdir, opts, form_id=form_id, taxonomy=taxonomy, progress=tick, workers=workers,
                      units=list(units) or None, overwrite=overwrite)
    for unit, path in written:
        click.echo(f"{unit.code} {unit.name}：{len(unit.projects)} 个项目 → {path}")
    click.echo(f"共 {len(written)} 个单位；发送清单：{Path(outdir) / '发送清单.csv'}")
    if carried is not None:
        from ..outputs.lastyear import DROPPED, REPORT, REPORT_HEAD
        write_csv(Path(outdir) / REPORT, [REPORT_HEAD], carried.report)
        click.echo(f"从去年开始：沿用 {carried.carried} 个项目（已预填去年的绩效目标和指标，可修改），"
                   f"新项目 {carried.new} 个，去年有、今年名单中没有：{carried.dropped} 个（见 {Path(outdir) / REPORT}）")
        for r in carried.report:
            if r[5] == DROPPED:
                click.echo(f"  去年有、今年没有：{r[0]} {r[1]} {r[2]} {r[3]}")


def _carry_last_year(ros, sources, year, form_id, taxonomy):
    last = last_year_returns(sources, year, ros)
    return attach(ros, last, lambda u: form_for_unit(u, form_id, taxonomy))


def _attach_department_data(ros, form_id, department, history, year):

    forms = {u.code: form_for_unit(u, form_id) for u in ros.units}
    dept_forms = {f.id: f for f in forms.values() if f.kind.takes_department_data}
    if not dept_forms:
        raise UserError("--department / --history 只用于部门整体表（如 --form hubei-dept）")
    form = next(iter(dept_forms.values()))
    if department:
        unknown = attach_department(ros, read_department(department, form))
        if unknown:
            click.echo("部门数据中这些单位编码不在名单中，已忽略：" + "、".join(unknown), err=True)
    if history:
        attach_history(ros, read_history(history), year)


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--outdir", type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--year", type=YEAR, help="自评年度（与批复的目标表年度相同）")
@click.option("--execution", type=click.Path(exists=True, dir_okay=False), default=None,
              help="执行数据 CSV：项目编码、全年预算数、全年执行数（可含年初预算数、主管部门、实施单位）")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None, help="名单（用于发送清单）")
@click.option("--form", "form_id", default=None, help="自评表式（默认按目标表的表式：项目 hebei-selfeval，部门整体 hubei-dept-selfeval）")
@click.option("--password", default=None, help="工作表保护密码（可不设）")
@click.option("--deadline", default="", help="填报截止时间")
@click.option("--contact", default="", help="联系人及电话")
@click.option("--overwrite", is_flag=True, help="覆盖输出文件夹里同名的空白自评表（已填写的从不覆盖）")
@templates_option
@round_aware("selfeval", required={"targets": "目标表（TARGETS）", "outdir": "-o/--outdir", "year": "--year"}, key=True)
def selfeval(targets, outdir, year, execution, roster, form_id, password, deadline, contact, overwrite, rnd):
    """按批复的绩效目标表（收回的目标表文件）为每个单位生成绩效自评表（项目支出或部门整体）。

    \b
    示例：
        perftables selfeval 已批复目标表/ -o 自评下发 --year 2025 --execution 执行数.csv
    """

    guard({"输出文件夹": outdir}, inputs=targets, reads=[execution, roster])
    require_key("生成自评表")
    ros = read_roster(roster) if roster else None
    exported = [t for t in targets if is_summary(t)]
    if exported:   # the summary (xlsx) or tidy export (CSV folder) of an earlier collect
        accepted = [r for source in exported for r in returns_from_summary(source)]
    else:
        col = run(targets, roster=ros, year=year)
        if col.kind not in TARGET_KINDS:
            col = run(targets, roster=ros, year=year, kind=FormKind.PROJECT_TARGET)
        accepted = col.accepted
    if not accepted and not exported:
        raise UserError("没有找到可用的绩效目标表（见下方文件清单）\n" +
                        "\n".join(f"  {f.display}：{f.reason}" for f in col.files))
    writable(outdir)
    opts = Options(year=year, password=password, deadline=deadline, contact=contact)
    form_id = form_id or accepted[0].form.meta.get("selfeval", "hebei-selfeval")
    written = generate_selfeval(accepted, outdir, opts, form_id=form_id,
                                execution=read_execution(execution, form_id) if execution else None,
                                overwrite=overwrite)
    for unit, path in written:
        click.echo(f"{unit.code} {unit.name}：{len(unit.projects)} 个项目 → {path}")
    click.echo(f"共 {len(written)} 个单位的自评表")


@cli.command()
@click.argument("inbox", nargs=-1, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="汇总工作簿（.xlsx）")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None, help="名单，用于报送情况")
@click.option("--export", "export_dir", type=click.Path(file_okay=False), default=None, help="同时导出 CSV 的文件夹")
@click.option("--year", type=YEAR, default=None, help="收集的年度（文件的年度不一时必须给出；在一轮中取自设置）")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False), default=None,
              help="为有问题的单位生成退改工作簿和审核意见的文件夹")
@click.option("--deadline", default="", help="退改截止时间，写入审核意见")
@click.option("--contact", default="", help="联系人及电话，写入退改工作簿的审核意见")
@click.option("--due", type=DATE, default=None, metavar="日期",
              help="报送截止日期（2025-01-15、2025/1/15 或 2025年1月15日）：报送情况据此算逾期天数（记入进度台账，以后不必再给）")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="并行进程数（默认用满全部 CPU；1 为串行）")
@click.option("--no-cache", is_flag=True, help="不用汇总文件旁的缓存（*.cache.sqlite），全部重新读取")
@click.option("--format", "formats", default="csv", show_default=True,
              help="导出格式，可多选，用逗号分隔：csv（Excel/WPS 直接打开）、sqlite（一个数据库文件）、parquet（需 pyarrow）")
@templates_option
@round_aware("collect", required={"inbox": "收件箱（INBOX）", "output": "-o/--output"}, key=True)
def collect(inbox, output, roster, export_dir, year, feedback_dir, deadline, contact, due, workers, no_cache, formats,
            rnd):
    """读取收回的文件，审核，输出汇总工作簿；未采用的文件复制到汇总文件旁的“待处理”文件夹。

    \b
    示例：
        perftables collect 收件箱/ -o 汇总.xlsx --roster examples/roster.csv --export 导出/ --feedback 退改/
        perftables collect    （在本轮文件夹中：读 2-收件箱，写 5-汇总、3-待处理、4-退改）
    """
    if rnd is not None:
        year = year or rnd.year
        due = due or rnd.settings.deadline

    missing_inputs(inbox)
    formats = tuple(dict.fromkeys(f.strip().lower() for f in formats.replace("，", ",").split(",") if f.strip()))
    unknown = [f for f in formats if f not in ("csv", "sqlite", "parquet")]
    if unknown or not formats:
        raise UserError(f"--format 只能是 csv、sqlite、parquet（逗号分隔），不认识：{'、'.join(unknown) or '（空）'}")
    if formats != ("csv",) and not export_dir:
        raise UserError("--format 需要和 --export 文件夹一起用")
    if "parquet" in formats:
        _arrow()
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise UserError(f"汇总文件“{output}”应以 .xlsx 结尾")
    guard({"汇总工作簿": output, "待处理文件夹": rnd.held if rnd else output.parent / "待处理", "缓存": cache_path_for(output),
           "进度台账": ledger_path(output), "导出文件夹": export_dir, "退改文件夹": feedback_dir}, inputs=inbox,
          reads=[roster])
    files = [i.path for i in walk_inputs(inbox)]
    if not files and rnd is not None and tuple(map(str, inbox)) == (str(rnd.inbox),):
        click.echo(f"本轮收件箱“{rnd.inbox}”里还没有文件（perftables fetch 取信，或把收到的文件放进去；网页上传的也在这里）")
        return
    if not files:
        raise UserError("输入中没有任何文件：" + "、".join(f"“{i}”" for i in inbox))
    ros = read_roster(roster) if roster else None
    for folder, what in ((output.parent, "汇总文件夹"), (export_dir, "导出文件夹"), (feedback_dir, "退改文件夹")):
        if folder:
            writable(folder, what)
    with progress(len(files), "收集") as tick:
        opts = CollectOptions(roster=ros, year=year, export_dir=export_dir, formats=formats, workers=workers,
                              use_cache=not no_cache, due=due,
                              feedback=dict(outdir=feedback_dir, deadline=deadline, contact=contact) if feedback_dir
                              else None)
        result = run_collect(inbox, output, opts, progress=tick, rnd=rnd)
    col = result.collection
    echo_collection(col)
    for note in result.notes:
        click.echo(f"注意：{note}", err=True)
    if any(f.payload and not f.stamp.stampless and not f.verified for f in col.files):
        click.echo(f"注意：本机没有签名密钥（{key_path()}），无法核验各文件的标识是否伪造。请把生成模板那台电脑上的"
                   f"签名密钥文件复制到这里，或用环境变量 {KEY_ENV} 指定它", err=True)
    if not any(f.payload or f.format in SPREADSHEETS for f in col.files):
        click.echo("注意：输入中没有一个电子表格（xlsx、xls、et、ods 或其压缩包），请检查收件箱是否选对", err=True)
    if result.reused:
        click.echo(f"收件箱与上次相同，汇总未重写：{output}")
    else:
        click.echo(f"汇总工作簿：{output}")
        if export_dir:
            click.echo(f"导出（{'、'.join(formats)}）：{export_dir}")
    if result.held:
        click.echo(f"未采用的文件已复制到：{result.held}（原件未动）")
    if feedback_dir:
        click.echo(f"退改工作簿 {len(result.feedback)} 份：{feedback_dir}")


@cli.command()
@click.argument("outdir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), help="名单（取邮箱）")
@click.option("--feedback", is_flag=True, help="OUTDIR 是 collect --feedback 的退改文件夹：以审核意见为正文")
@click.option("--from", "sender", default=None, help="发件人邮箱（默认 perftables@localhost）")
@click.option("--from-name", default="", help="发件人名称，如“某某市科协计划财务部”")
@click.option("--subject", default=None, help="邮件主题（可用 {unit_name} {year} {form_title}）")
@click.option("--letter", type=click.Path(exists=True, dir_okay=False), default=None,
              help="邮件正文模板（UTF-8 文本，可用 {unit_name} {year} {form_title} {deadline} {contact} {sender} {date}）")
@click.option("--year", type=YEAR, default=None, help="年度（默认取附件模板里的年度）")
@click.option("--deadline", default=None, help="截止时间（默认“（见通知）”）")
@click.option("--contact", default="", help="联系人及电话")
@click.option("--mail-dir", type=click.Path(file_okay=False), default=None,
              help="草稿和发送记录的文件夹（默认：OUTDIR 旁的“OUTDIR名_邮件”）")
@click.option("--dry-run", is_flag=True, help="只列出将要发出的邮件，不写草稿、不发送")
@click.option("--send", "do_send", is_flag=True, help="通过 SMTP 发送（已发送的不会重发）")
@click.option("--smtp", default="", help="SMTP 服务器，如 smtp.example.cn")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="端口（默认 ssl 465，starttls 587，none 25）")
@click.option("--security", type=click.Choice(["ssl", "starttls", "none"]), default=None, help="加密方式（默认 ssl）")
@click.option("--user", default=None, help="登录名（默认同发件人）")
@click.option("--interval", type=click.FloatRange(0, 3600), default=None, help="两封邮件之间的间隔（秒，默认 2）")
@click.option("--ledger", type=click.Path(), default=None,
              help="进度台账（collect 的汇总工作簿、它所在的文件夹或 进度台账.json；还没有时新建）：发送成功的邮件记入台账")
@click.option("--remind", is_flag=True,
              help="催报：给未报送的单位再发模板，给问题未改的单位再发退改工作簿（需 --ledger；同一单位一天只催一次）")
@click.option("--feedback-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="催报时取退改工作簿的文件夹（collect --feedback 的文件夹）")
@round_aware("mail", required={"outdir": "模板文件夹（OUTDIR）", "roster": "--roster"},
             fallback={"sender": "perftables@localhost", "deadline": "（见通知）", "security": "ssl", "interval": 2.0})
def mail(outdir, roster, feedback, sender, from_name, subject, letter, year, deadline, contact, mail_dir, dry_run,
         do_send, smtp, port, security, user, interval, ledger, remind, feedback_dir, rnd):
    """为每个单位生成邮件草稿（.eml，附模板或退改工作簿），或直接发送。

    \b
    草稿写在 OUTDIR 旁的“OUTDIR名_邮件”文件夹（用 Outlook、Foxmail 打开即为待发送的草稿），
    发送记录（发送记录.csv）也在那里。年度和表名取自附件模板。
    密码从环境变量 PERFTABLES_SMTP_PASSWORD 读取，没有则提示输入，从不写入磁盘。
    示例：
        perftables mail 下发/ --roster examples/roster.csv --from kx@example.cn --deadline "1月15日"
        perftables mail 下发/ --roster examples/roster.csv --from kx@example.cn --send --smtp smtp.example.cn
        perftables mail 退改/ --roster examples/roster.csv --feedback --from kx@example.cn
        perftables mail 下发/ --roster examples/roster.csv --remind --ledger 汇总/ --feedback-dir 退改/ --send ...
        perftables mail --send    （在本轮文件夹中：发 1-下发 的模板；--feedback 发 4-退改；--remind 催报）
    """
    problem = mail_send.header_problem(sender, from_name)
    if problem:
        raise UserError(f"--from / --from-name：{problem}")
    if remind and feedback:
        raise UserError("--remind 与 --feedback 不能同用：催报时 OUTDIR 是下发模板的文件夹，退改工作簿用 --feedback-dir 给出")
    if do_send and not smtp and not dry_run:
        raise UserError("发送需要 --smtp 服务器")
    server = mail_send.SmtpServer(smtp, port, security, user, None, interval) if do_send else None
    words = dict(sender=sender, from_name=from_name, subject=subject, deadline=deadline, contact=contact,
                 folder=Path(mail_dir) if mail_dir else None)
    mode = "remind" if remind else "feedback" if feedback else "templates"
    if rnd is not None:
        with rnd.store() as store:
            if feedback and outdir == str(rnd.templates):
                outdir = str(rnd.feedback)
            job = mail_send.MailJob(Path(outdir), None, mode=mode, year=year or rnd.year, ledger=rnd.ledger(store),
                                    feedback_dir=Path(feedback_dir) if remind and feedback_dir else None,
                                    links=upload_links(rnd, store), **words)
            return _mail(job, roster, letter, dry_run, server)
    if remind and not ledger:
        raise UserError("--remind 需要 --ledger：催谁，要看进度台账（collect 写在汇总工作簿旁）")
    book = Ledger.load(ledger) if ledger else None
    if remind and not book.path.is_file():
        raise UserError(f"没有进度台账“{book.path}”：请给出 collect 的汇总工作簿或它所在的文件夹")
    job = mail_send.MailJob(Path(outdir), None, mode=mode, year=year, ledger=book,
                            feedback_dir=Path(feedback_dir) if feedback_dir else None, **words)
    _mail(job, roster, letter, dry_run, server)


def _mail(job, roster, letter, dry_run: bool, server=None):
    """Plan the job's messages; list them (dry run), or write the drafts and, given an SMTP server, send them."""
    guard({"邮件文件夹": job.folder}, inputs=[job.outdir, job.feedback_dir] if job.feedback_dir else [job.outdir],
          reads=[roster, letter])
    job.roster = read_roster(roster)
    job.letter = Path(letter).read_text(encoding="utf-8") if letter else None
    messages, missing = job.plan()
    for line in missing:
        click.echo(f"未生成：{line}")
    if dry_run:
        for msg in messages:
            click.echo(f"将发给 {msg.unit_name} <{msg.to}>：{msg.subject}，附件 {msg.attachment.name}")
        click.echo(f"共 {len(messages)} 封（未写草稿、未发送）")
        return
    writable(job.folder, "邮件文件夹")
    drafts = mail_send.write_drafts(messages, job.folder, job.sender, job.from_name)
    click.echo(f"邮件草稿 {len(drafts)} 封：{job.folder}（用 Outlook、Foxmail 打开即可检查后发送）")
    if server is not None:
        password = os.environ.get(mail_send.PASSWORD_ENV)
        if password is None and server.security != "none":
            password = click.prompt("SMTP 密码", hide_input=True, default="", show_default=False) or None
        counts = job.send(messages, dataclasses.replace(server, password=password), echo=click.echo)
        click.echo(f"已发送 {counts['sent']} 封，此前已发送跳过 {counts['skipped']} 封，失败 {counts['failed']} 封；"
                   f"记录：{job.log}")


@cli.command()
@click.argument("items", nargs=-1, metavar="[SUMMARY] UNITS...")
@click.option("--all-clean", is_flag=True, help="所有最新文件没有错误、没有警告的单位都确认通过")
@click.option("--force", is_flag=True, help="最新文件有错误也确认通过")
@click.option("--by", default="", help="确认人（记入台账）")
@round_aware("approve")
def approve(items, all_clean, force, by, rnd):
    """确认单位最新报送的文件通过审核，记入进度台账（SUMMARY：collect 的汇总工作簿或它所在的文件夹）。

    \b
    也可以在汇总工作簿“报送情况”表的“确认通过”列填“是”，下次 collect 时记入台账。
    单位之后又发来新文件，新文件需要重新确认。
    示例：
        perftables approve 汇总/汇总.xlsx 306001 307001
        perftables approve 汇总/ --all-clean --by 张三
        perftables approve 306001 --by 张三    （在本轮文件夹中）
    """

    summary, units = (items[0], items[1:]) if items and Path(items[0]).exists() else (None, items)
    if summary is None and rnd is None:
        raise UserError("请给出 collect 的汇总工作簿（或它所在的文件夹），或在本轮文件夹中运行")
    with (rnd.store() if summary is None else contextlib.nullcontext()) as store:
        _approve(rnd.ledger(store) if summary is None else Ledger.load(summary), units, all_clean, force, by)


def _approve(book, units, all_clean, force, by):
    if book.store is None and not book.path.is_file():
        raise UserError(f"没有进度台账“{book.path}”：请先运行 collect（台账写在汇总工作簿旁）")
    if not units and not all_clean:
        raise UserError("请给出要确认通过的单位编码，或用 --all-clean")
    unknown = [u for u in units if u not in book.units()]
    if unknown:
        raise UserError("台账中没有这些单位编码：" + "、".join(unknown) + "（请用单位编码，见汇总表“报送情况”）")
    todo = list(dict.fromkeys(units))
    if all_clean:
        todo += [u for u in book.clean_unapproved() if u not in todo]
    refused = 0
    for said, approved in book.approve_many(todo, by=by, force=force):
        click.echo(said, err=not approved)
        refused += not approved
    book.save()
    click.echo(f"进度台账：{book.path}（重新运行 collect，汇总表“报送情况”即显示）")
    if refused:
        raise click.exceptions.Exit(EXIT_USAGE)


@cli.command()
@click.option("--imap", "host", default=None, help="IMAP 服务器，如 imap.qq.com、imap.163.com")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="端口（默认 ssl 993，starttls 143）")
@click.option("--security", type=click.Choice(["ssl", "starttls"]), default=None, help="加密方式（默认 ssl）")
@click.option("--user", default=None, help="登录名（邮箱地址）")
@click.option("--folder", default=None, help="邮箱文件夹（默认：收件箱，即 INBOX）")
@click.option("--since", type=DATE, default=None, metavar="日期", help="只取这天以后收到的邮件，如 2025-01-01")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None,
              help="名单：按“邮箱”列认出发件单位，文件名前加单位名称；名单外的发件人照样保存并列出")
@click.option("--mark-seen", is_flag=True, help="取完后把邮件标为已读（默认不改动邮箱里的任何东西）")
@click.option("--max-size", type=click.IntRange(1, 2000), default=50, show_default=True, help="单个附件的上限（MB）")
@click.option("-o", "--outdir", type=click.Path(file_okay=False), help="收件箱文件夹（附件保存到这里）")
@round_aware("fetch", required={"host": "--imap", "user": "--user", "outdir": "-o/--outdir"},
             fallback={"security": "ssl", "folder": "收件箱"})
def fetch(host, port, security, user, folder, since, roster, mark_seen, max_size, outdir, rnd):
    """从邮箱取回各单位发回的附件，存入收件箱文件夹，供 collect 读取。

    \b
    每个附件以“日期_单位名称_原文件名”保存；每封邮件、每个附件（保存与否）都记在收件箱旁的
    “收件箱名_取信记录.csv”里（发件人、时间、主题、Message-ID、SHA-256）。再次运行只取新邮件，
    中断后重新运行会接着取。邮件只读不改（--mark-seen 才标为已读），不删除、不移动。
    密码（QQ、163 等邮箱是“授权码”）从环境变量 PERFTABLES_IMAP_PASSWORD 读取，没有则提示输入，从不写入磁盘。
    示例：
        perftables fetch --imap imap.qq.com --user kx@qq.com -o 收件箱/ --roster 名单.xlsx --since 2025-01-01
    """

    outdir = Path(outdir)
    log = mail_fetch.log_path_for(outdir)
    guard({"收件箱文件夹": outdir, "取信记录": log}, reads=[roster])
    ros = read_roster(roster) if roster else None
    writable(outdir, "收件箱文件夹")
    password = os.environ.get(mail_fetch.PASSWORD_ENV)
    if password is None:
        password = click.prompt("IMAP 密码（授权码）", hide_input=True, default="", show_default=False)
    box = mail_fetch.Mailbox(host, user, password, port, security, folder)
    result = mail_fetch.fetch(box, outdir, since=since, roster=ros, mark_seen=mark_seen, max_bytes=max_size << 20,
                              echo=click.echo)
    click.echo(f"新邮件 {result.mails} 封，保存附件 {len(result.saved)} 个，内容重复未再保存 {result.same} 个；"
               f"此前已取过 {result.already} 封")
    for mail, name, why in result.refused:
        click.echo(f"未保存：{mail.sender}《{mail.subject}》{name}：{why}")
    if result.unknown:
        click.echo(f"名单外的发件人 {len(result.unknown)} 封（附件已保存，collect 会按文件内容认出单位）：")
        for mail in result.unknown:
            click.echo(f"  {mail.sender_name} <{mail.sender}>《{mail.subject}》附件 {len(mail.attachments)} 个")
    click.echo(f"收件箱：{outdir}；取信记录：{result.log}")


@cli.command()
@click.argument("inbox", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--outdir", type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None, help="名单")
@click.option("--year", type=YEAR, default=None, help="年度（文件的年度不一时必须给出；在一轮中取自设置）")
@click.option("--no-pdf", is_flag=True, help="不转换 PDF（转换需要 LibreOffice）")
@click.option("--force", is_flag=True, help="仍有单位未通过审核也发布（在公开的汇总中注明）")
@templates_option
@round_aware("publish", required={"inbox": "收件箱或汇总（INBOX）", "outdir": "-o/--outdir"}, key=True)
def publish(inbox, outdir, roster, year, no_pdf, force, rnd):
    """把收回并审核过的表做成公开用的文本：每个单位的部门预算绩效文本（docx、xlsx、pdf）和全县汇总。

    输入可以是收件箱（文件、文件夹），也可以是 collect 写出的汇总工作簿或 CSV 导出文件夹。

    \b
    示例：
        perftables publish 收件箱/ -o 公开/ --roster examples/roster.csv
        perftables publish 汇总.xlsx -o 公开/
        perftables publish    （在本轮文件夹中：各单位都确认通过后，写到 6-公开）

    有单位仍有错误、有待确认的文件（在一轮中：或未确认通过）时不发布，列出这些单位；--force 照常发布并在汇总中注明。
    """
    guard({"输出文件夹": outdir}, inputs=inbox, reads=[roster])
    ros = read_roster(roster) if roster else None
    summaries = [s for s in inbox if is_summary(s)]
    dept = [s for s in inbox if is_dept_summary(s)]
    if dept:
        raise UserError(f"“{dept[0]}”是部门整体表的汇总：部门整体表请从收回的文件（收件箱）发布，"
                        "汇总里没有逐格的原表内容")
    if summaries:
        col = Collection(roster=ros)
        col.files = [r for s in summaries for r in returns_from_summary(s)]
        col.year = year or next((r.stamp.year for r in col.files), None)
    else:
        with progress(len(walk_inputs(inbox)), "读取") as tick, \
                (rnd.store() if rnd else contextlib.nullcontext()) as store:
            ledger = rnd.ledger(store) if rnd else None
            col = read_collection(inbox, roster=ros, year=year, ledger=ledger, progress=tick,
                                  cache_for=rnd.summary if rnd else None)
            blockers = publish_blockers(col, ledger)
    if summaries:
        blockers = publish_blockers(col)
    if blockers and not force:
        raise UserError(f"还有 {len(blockers)} 个单位没有通过审核，未发布（确需发布请加 --force，会在公开的汇总中注明）：\n"
                        + "\n".join(f"  {line}" for line in blockers))
    remarks = (f"注：发布时仍有 {len(blockers)} 个单位未通过审核，经确认照常发布。",) if blockers else ()
    heading = (Heading(rnd.title, rnd.settings.issuer, chinese(_dt.date.today()), remarks) if rnd
               else Heading(remarks=remarks))
    writable(outdir)
    notes: list[str] = []
    if remarks:
        notes.append(remarks[0].removeprefix("注：") + "（--force）")
    with progress(len(col.accepted), "发布") as tick:
        written = run_publish(col, outdir, pdf=not no_pdf, progress=tick, notes=notes, heading=heading)
    for path in written:
        click.echo(str(path))
    for note in notes:
        click.echo(f"注意：{note}", err=True)
    click.echo(f"共 {len(written)} 个文件")


@cli.command()
@click.argument("last", type=click.Path(exists=True))
@click.argument("this", type=click.Path(exists=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="对比工作簿（.xlsx）")
@click.option("--actual", type=click.Path(exists=True), default=None,
              help="去年的自评汇总（可选）：今年目标低于去年实际完成值的也列出")
def compare(last, this, output, actual):
    """今年与去年对比：单位、项目的增减和改名，预算变化，目标比去年低的指标，各一级指标的指标数，两年预算图。

    LAST、THIS 是两年 collect 写出的汇总工作簿（或 CSV 导出文件夹）。

    \b
    示例：
        perftables compare 2024汇总.xlsx 2025汇总.xlsx -o 对比.xlsx
    """
    from ..outputs.compare import compare as run

    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise UserError(f"对比文件“{output}”应以 .xlsx 结尾")
    guard({"对比工作簿": output}, inputs=[last, this] + ([actual] if actual else []))
    tables = run(last, this, actual)
    writable(output.parent, "输出文件夹")
    write_xlsx(tables, output, title="年度对比")
    units, projects, lower, structure = tables
    changed = [r for r in units.rows if r[3] != "不变"]
    click.echo(f"单位 {len(units.rows)} 个，其中有变化 {len(changed)} 个；项目 {len(projects.rows)} 个，"
               f"新增 {sum(r[6] == '新增' for r in projects.rows)}、取消 {sum(r[6] == '取消' for r in projects.rows)}、"
               f"改名 {sum(r[6] == '改名' for r in projects.rows)}；目标比去年低的指标 {len(lower.rows)} 条")
    click.echo(f"对比工作簿：{output}")


def echo_collection(col):
    from collections import Counter


    fates = Counter(f.fate for f in col.files)
    click.echo(f"共 {len(col.files)} 个文件：" + "，".join(f"{k} {v}" for k, v in sorted(fates.items())))
    for f in col.files:
        click.echo(f"  [{f.fate}] {f.display}：{f.reason}")
    if col.roster is not None:
        returned = {f.unit_code for f in col.accepted}
        blank = {f.unit_code for f in col.files if f.fate == BLANK} - returned
        missing = [u for u in col.roster.units if u.code not in returned and u.code not in blank]
        if blank:
            click.echo("交回空白模板（未填写）：" + "、".join(f"{u.code} {u.name}" for u in col.roster.units
                                                   if u.code in blank))
        if missing:
            click.echo("未报送：" + "、".join(f"{u.code} {u.name}" for u in missing))


for _command in ROUND_COMMANDS:
    cli.add_command(_command)


@cli.command()
@click.option("-o", "--outdir", default="perftables-demo", type=click.Path(file_okay=False), show_default=True,
              help="演示输出文件夹")
def demo(outdir):
    """用示例名单和种子文本走一遍全过程：下发 → 收集审核 → 退改 → 自评 → 部门整体表 → 公开 → 邮件草稿。

    \b
    示例：
        perftables demo -o 演示
    """

    for line in run_demo(Path(outdir)):
        click.echo(line)


def main():
    multiprocessing.freeze_support()   # a frozen .exe (PyInstaller) started as a worker runs the worker, not the CLI
    _safe_streams()
    sys.unraisablehook = _after_the_message
    cli(prog_name="perftables")


def _after_the_message(unraisable) -> None:
    """An error raised while an object is cleaned up (a half-written zip closing its file when the disk is
    full): the error itself was already told in Chinese, so no second, English traceback follows it."""
    if os.environ.get("PERFTABLES_DEBUG"):
        sys.__unraisablehook__(unraisable)


def _safe_streams() -> None:
    """Output never fails on a character the console cannot show: a Chinese Windows console or a redirected
    stream is GBK (cp936) with strict errors — a file named with • or an emoji would end the run after its
    outputs were written. What cannot be encoded is replaced; the encoding itself is left as it is."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass


if __name__ == "__main__":
    main()
