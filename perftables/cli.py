"""The perftables command line: a thin click layer over the library."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .forms import FormError, list_forms, list_taxonomies
from .roster import RosterError, read_roster


def _progress(total: int, label: str):
    """A progress bar on a terminal, nothing when piped."""
    if not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=total, label=label, file=sys.stderr)
    bar.__enter__()
    return bar, bar.update


@click.group()
@click.version_option(__version__, prog_name="perftables")
def cli():
    """perftables：预算绩效目标表的下发、回收、审核与汇总。"""


@cli.command()
def forms():
    """列出可用的表式和指标体系。

    \b
    示例：
        perftables forms
    """
    for form in list_forms():
        click.echo(f"{form.id:<20} {form.name}（{form.version} 版，默认指标体系 {form.taxonomy_id}）")
    click.echo("")
    for tax in list_taxonomies():
        click.echo(f"指标体系 {tax.id:<12} {tax.name}：" + "、".join(l.name for l in tax.level1))


@cli.command()
@click.argument("roster", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--year", required=True, type=int, help="预算年度，如 2025")
@click.option("--form", "form_id", default=None, help="表式（见 perftables forms）；名单中“表式”列优先")
@click.option("--taxonomy", default=None, help="指标体系：classic / effect / mof2021；名单中“指标体系”列优先")
@click.option("--password", default=None, help="工作表保护密码（可不设）")
@click.option("--extra-projects", type=int, default=None, help="每个单位附加的空白“新增项目”表数")
@click.option("--indicator-rows", type=int, default=None, help="每个项目表的指标行数")
@click.option("--deadline", default="", help="填报截止时间，写入填报说明")
@click.option("--contact", default="", help="联系人及电话，写入填报说明")
def generate(roster, outdir, year, form_id, taxonomy, password, extra_projects, indicator_rows, deadline, contact):
    """按名单为每个单位生成一份锁定的绩效目标表工作簿。

    \b
    示例：
        perftables generate examples/roster.csv -o 下发 --year 2025 --deadline "2025年1月15日"
    """
    from .generate import Options, generate as run

    try:
        ros = read_roster(roster)
        opts = Options(year=year, password=password, extra_projects=extra_projects, indicator_rows=indicator_rows,
                       deadline=deadline, contact=contact)
        bar, tick = _progress(len(ros.units), "生成")
        written = run(ros, outdir, opts, form_id=form_id, taxonomy=taxonomy, progress=tick)
        if bar:
            bar.__exit__(None, None, None)
    except (RosterError, FormError) as exc:
        raise click.ClickException(str(exc))
    for unit, path in written:
        click.echo(f"{unit.code} {unit.name}：{len(unit.projects)} 个项目 → {path}")
    click.echo(f"共 {len(written)} 个单位；发送清单：{Path(outdir) / '发送清单.csv'}")


@cli.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--year", required=True, type=int, help="自评年度（与批复的目标表年度相同）")
@click.option("--execution", type=click.Path(exists=True, dir_okay=False), default=None,
              help="执行数据 CSV：项目编码、全年预算数、全年执行数（可含年初预算数、主管部门、实施单位）")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None, help="名单（用于发送清单）")
@click.option("--form", "form_id", default="hebei-selfeval", show_default=True, help="自评表式")
@click.option("--password", default=None, help="工作表保护密码（可不设）")
@click.option("--deadline", default="", help="填报截止时间")
@click.option("--contact", default="", help="联系人及电话")
def selfeval(targets, outdir, year, execution, roster, form_id, password, deadline, contact):
    """按批复的绩效目标表（收回的目标表文件）为每个单位生成项目支出绩效自评表。

    \b
    示例：
        perftables selfeval 已批复目标表/ -o 自评下发 --year 2025 --execution 执行数.csv
    """
    from .collect import collect as run
    from .generate import Options
    from .selfeval import generate_selfeval, read_execution

    try:
        ros = read_roster(roster) if roster else None
    except RosterError as exc:
        raise click.ClickException(str(exc))
    from pathlib import Path as _P
    from .selfeval import targets_from_export
    exported = [t for t in targets if (_P(t) / "指标明细.csv").is_file()]
    if exported:   # the tidy export of an earlier collect
        accepted = [r for folder in exported for r in targets_from_export(folder)]
    else:
        col = run(targets, roster=ros, year=year, kind="project_target")
        accepted = col.accepted
    if not accepted and not exported:
        raise click.ClickException("没有找到可用的绩效目标表（见下方文件清单）\n" +
                                   "\n".join(f"  {f.display}：{f.reason}" for f in col.files))
    opts = Options(year=year, password=password, deadline=deadline, contact=contact)
    written = generate_selfeval(accepted, outdir, opts, form_id=form_id,
                                execution=read_execution(execution, form_id) if execution else None)
    for unit, path in written:
        click.echo(f"{unit.code} {unit.name}：{len(unit.projects)} 个项目 → {path}")
    click.echo(f"共 {len(written)} 个单位的自评表")


@cli.command()
@click.argument("inbox", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="汇总工作簿（.xlsx）")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None, help="名单，用于报送情况")
@click.option("--export", "export_dir", type=click.Path(file_okay=False), default=None, help="同时导出 CSV 的文件夹")
@click.option("--year", type=int, default=None, help="收集的年度（默认取多数文件的年度）")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False), default=None,
              help="为有问题的单位生成退改工作簿和审核意见的文件夹")
@click.option("--deadline", default="", help="退改截止时间，写入审核意见")
def collect(inbox, output, roster, export_dir, year, feedback_dir, deadline):
    """读取收回的文件，审核，输出汇总工作簿；未采用的文件复制到汇总文件旁的“待处理”文件夹。

    \b
    示例：
        perftables collect 收件箱/ -o 汇总.xlsx --roster examples/roster.csv --export 导出/ --feedback 退改/
    """
    from .collect import collect as run
    from .collect import quarantine, walk_inputs
    from .summary import build_tables, write_csv, write_xlsx

    output = Path(output)
    inputs = [p.resolve() for p, _ in walk_inputs(inbox) if p.exists()]
    targets = [output.resolve(), (output.parent / "待处理").resolve()]
    targets += [Path(d).resolve() for d in (export_dir, feedback_dir) if d]
    for target in targets:
        if any(p == target or target in p.parents for p in inputs):
            raise click.ClickException(f"输出“{target}”与收件文件重叠（会覆盖或混入原件），请换一个位置")
    try:
        ros = read_roster(roster) if roster else None
    except RosterError as exc:
        raise click.ClickException(str(exc))
    bar, tick = _progress(len(inputs), "收集")
    col = run(inbox, roster=ros, year=year, progress=tick)
    if bar:
        bar.__exit__(None, None, None)
    tables = build_tables(col)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(tables, output, title=f"{col.year or ''}年绩效目标汇总")
    echo_collection(col)
    click.echo(f"汇总工作簿：{output}")
    if export_dir:
        write_csv(tables, export_dir)
        click.echo(f"CSV 导出：{export_dir}")
    held = quarantine(col, output.parent / "待处理")
    if held:
        click.echo(f"未采用的文件已复制到：{held}（原件未动）")
    if feedback_dir:
        from .feedback import write_feedback
        written = write_feedback(col, feedback_dir, deadline=deadline)
        click.echo(f"退改工作簿 {len(written)} 份：{feedback_dir}")


def echo_collection(col):
    from collections import Counter

    fates = Counter(f.fate for f in col.files)
    click.echo(f"共 {len(col.files)} 个文件：" + "，".join(f"{k} {v}" for k, v in sorted(fates.items())))
    for f in col.files:
        click.echo(f"  [{f.fate}] {f.display}：{f.reason}")
    if col.roster is not None:
        returned = {f.unit_code for f in col.accepted}
        missing = [u for u in col.roster.units if u.code not in returned]
        if missing:
            click.echo("未报送：" + "、".join(f"{u.code} {u.name}" for u in missing))


@cli.command()
@click.option("-o", "--outdir", default="perftables-demo", type=click.Path(file_okay=False), show_default=True,
              help="演示输出文件夹")
def demo(outdir):
    """用示例名单和四份种子文本走一遍：生成 → 填报 → 收集 → 汇总。

    \b
    示例：
        perftables demo -o 演示
    """
    from .demo import run_demo

    for line in run_demo(Path(outdir)):
        click.echo(line)


def main():
    cli(prog_name="perftables")


if __name__ == "__main__":
    main()
