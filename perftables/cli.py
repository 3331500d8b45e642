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
@click.option("--department", type=click.Path(exists=True, dir_okay=False), default=None,
              help="部门整体表的部门数据（CSV/xlsx，列名即表上的名称，如“财政拨款”“财政拨款（上年）”“填报人”）")
@click.option("--history", multiple=True, type=click.Path(exists=True),
              help="往年收回的部门整体表（收件箱、汇总工作簿或导出文件夹，可给两次）：预填并锁定近两年指标值")
@click.option("--workers", type=int, default=None, help="并行进程数（默认用满全部 CPU；1 为串行）")
def generate(roster, outdir, year, form_id, taxonomy, password, extra_projects, indicator_rows, deadline, contact,
             department, history, workers):
    """按名单为每个单位生成一份锁定的绩效目标表工作簿。

    \b
    示例：
        perftables generate examples/roster.csv -o 下发 --year 2025 --deadline "2025年1月15日"
    """
    from .generate import Options, generate as run

    try:
        ros = read_roster(roster)
        if department or history:
            _attach_department_data(ros, form_id, department, history, year)
        opts = Options(year=year, password=password, extra_projects=extra_projects, indicator_rows=indicator_rows,
                       deadline=deadline, contact=contact)
        bar, tick = _progress(len(ros.units), "生成")
        if opts.created is None:   # one creation time for every workbook of the run
            import datetime as _dt
            opts.created = _dt.datetime.now().replace(microsecond=0)
        written = run(ros, outdir, opts, form_id=form_id, taxonomy=taxonomy, progress=tick, workers=workers)
        if bar:
            bar.__exit__(None, None, None)
    except (RosterError, FormError) as exc:
        raise click.ClickException(str(exc)) from None
    for unit, path in written:
        click.echo(f"{unit.code} {unit.name}：{len(unit.projects)} 个项目 → {path}")
    click.echo(f"共 {len(written)} 个单位；发送清单：{Path(outdir) / '发送清单.csv'}")


def _attach_department_data(ros, form_id, department, history, year):
    from .dept import attach_history, read_history
    from .generate import form_for_unit
    from .roster import attach_department, read_department

    forms = {u.code: form_for_unit(u, form_id) for u in ros.units}
    dept_forms = {f.id: f for f in forms.values() if f.kind == "dept_target"}
    if not dept_forms:
        raise click.ClickException("--department / --history 只用于部门整体表（如 --form hubei-dept）")
    form = next(iter(dept_forms.values()))
    if department:
        unknown = attach_department(ros, read_department(department, form))
        if unknown:
            click.echo("部门数据中这些单位编码不在名单中，已忽略：" + "、".join(unknown), err=True)
    if history:
        attach_history(ros, read_history(history), year)


@cli.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--year", required=True, type=int, help="自评年度（与批复的目标表年度相同）")
@click.option("--execution", type=click.Path(exists=True, dir_okay=False), default=None,
              help="执行数据 CSV：项目编码、全年预算数、全年执行数（可含年初预算数、主管部门、实施单位）")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None, help="名单（用于发送清单）")
@click.option("--form", "form_id", default=None, help="自评表式（默认按目标表的表式：项目 hebei-selfeval，部门整体 hubei-dept-selfeval）")
@click.option("--password", default=None, help="工作表保护密码（可不设）")
@click.option("--deadline", default="", help="填报截止时间")
@click.option("--contact", default="", help="联系人及电话")
def selfeval(targets, outdir, year, execution, roster, form_id, password, deadline, contact):
    """按批复的绩效目标表（收回的目标表文件）为每个单位生成绩效自评表（项目支出或部门整体）。

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
        raise click.ClickException(str(exc)) from None
    from pathlib import Path as _P
    from .summary import returns_from_summary
    exported = [t for t in targets if (_P(t) / "指标明细.csv").is_file() or str(t).endswith(".xlsx") and
                _is_summary(t)]
    if exported:   # the summary (xlsx) or tidy export (CSV folder) of an earlier collect
        accepted = [r for source in exported for r in returns_from_summary(source)]
    else:
        col = run(targets, roster=ros, year=year)
        if col.kind not in ("project_target", "dept_target"):
            col = run(targets, roster=ros, year=year, kind="project_target")
        accepted = col.accepted
    if not accepted and not exported:
        raise click.ClickException("没有找到可用的绩效目标表（见下方文件清单）\n" +
                                   "\n".join(f"  {f.display}：{f.reason}" for f in col.files))
    opts = Options(year=year, password=password, deadline=deadline, contact=contact)
    form_id = form_id or accepted[0].form.meta.get("selfeval", "hebei-selfeval")
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
@click.option("--workers", type=int, default=None, help="并行进程数（默认用满全部 CPU；1 为串行）")
@click.option("--no-cache", is_flag=True, help="不用汇总文件旁的缓存（*.cache.sqlite），全部重新读取")
def collect(inbox, output, roster, export_dir, year, feedback_dir, deadline, workers, no_cache):
    """读取收回的文件，审核，输出汇总工作簿；未采用的文件复制到汇总文件旁的“待处理”文件夹。

    \b
    示例：
        perftables collect 收件箱/ -o 汇总.xlsx --roster examples/roster.csv --export 导出/ --feedback 退改/
    """
    from .cache import cache_path_for
    from .collect import walk_inputs
    from .summary import run_collect

    output = Path(output)
    inputs = [p.resolve() for p, _ in walk_inputs(inbox) if p.exists()]
    targets = [output.resolve(), (output.parent / "待处理").resolve(), cache_path_for(output).resolve()]
    targets += [Path(d).resolve() for d in (export_dir, feedback_dir) if d]
    for target in targets:
        if any(p == target or target in p.parents for p in inputs):
            raise click.ClickException(f"输出“{target}”与收件文件重叠（会覆盖或混入原件），请换一个位置")
    try:
        ros = read_roster(roster) if roster else None
    except RosterError as exc:
        raise click.ClickException(str(exc)) from None
    bar, tick = _progress(len(inputs), "收集")
    result = run_collect(inbox, output, roster=ros, year=year, export_dir=export_dir, workers=workers,
                         progress=tick, use_cache=not no_cache)
    if bar:
        bar.__exit__(None, None, None)
    col = result.collection
    echo_collection(col)
    if result.reused:
        click.echo(f"收件箱与上次相同，汇总未重写：{output}")
    else:
        click.echo(f"汇总工作簿：{output}")
        if export_dir:
            click.echo(f"CSV 导出：{export_dir}")
    if result.held:
        click.echo(f"未采用的文件已复制到：{result.held}（原件未动）")
    if feedback_dir:
        from .feedback import write_feedback
        written = write_feedback(col, feedback_dir, deadline=deadline)
        click.echo(f"退改工作簿 {len(written)} 份：{feedback_dir}")


@cli.command()
@click.argument("outdir", type=click.Path(exists=True, file_okay=False))
@click.option("--roster", required=True, type=click.Path(exists=True, dir_okay=False), help="名单（取邮箱）")
@click.option("--feedback", is_flag=True, help="OUTDIR 是 collect --feedback 的退改文件夹：以审核意见为正文")
@click.option("--from", "sender", default="perftables@localhost", show_default=True, help="发件人邮箱")
@click.option("--from-name", default="", help="发件人名称，如“某某市科协计划财务部”")
@click.option("--subject", default=None, help="邮件主题（可用 {unit_name} {year}）")
@click.option("--letter", type=click.Path(exists=True, dir_okay=False), default=None,
              help="邮件正文模板（UTF-8 文本，可用 {unit_name} {year} {deadline} {contact} {sender} {date}）")
@click.option("--year", default="", help="年度，用于主题和正文")
@click.option("--deadline", default="（见通知）", help="截止时间")
@click.option("--contact", default="", help="联系人及电话")
@click.option("--dry-run", is_flag=True, help="只列出将要发出的邮件，不写草稿、不发送")
@click.option("--send", "do_send", is_flag=True, help="通过 SMTP 发送（已发送的不会重发）")
@click.option("--smtp", default="", help="SMTP 服务器，如 smtp.example.cn")
@click.option("--port", type=int, default=None, help="端口（默认 ssl 465，starttls 587，none 25）")
@click.option("--security", type=click.Choice(["ssl", "starttls", "none"]), default="ssl", show_default=True)
@click.option("--user", default=None, help="登录名（默认同发件人）")
@click.option("--interval", type=float, default=2.0, show_default=True, help="两封邮件之间的间隔（秒）")
def mail(outdir, roster, feedback, sender, from_name, subject, letter, year, deadline, contact, dry_run, do_send,
         smtp, port, security, user, interval):
    """为每个单位生成邮件草稿（.eml，附模板或退改工作簿），或直接发送。

    \b
    密码从环境变量 PERFTABLES_SMTP_PASSWORD 读取，没有则提示输入，从不写入磁盘。
    示例：
        perftables mail 下发/ --roster examples/roster.csv --from kx@example.cn --year 2025 --deadline "1月15日"
        perftables mail 下发/ --roster examples/roster.csv --from kx@example.cn --send --smtp smtp.example.cn
        perftables mail 退改/ --roster examples/roster.csv --feedback --from kx@example.cn
    """
    import datetime as _dt
    import os

    from . import mail as m

    try:
        ros = read_roster(roster)
    except RosterError as exc:
        raise click.ClickException(str(exc)) from None
    context = {"year": year, "deadline": deadline, "contact": contact, "sender": from_name or sender,
               "date": _dt.date.today().strftime("%Y年%m月%d日"), "form_title": "预算绩效目标表"}
    try:
        if feedback:
            messages, missing = m.plan_feedback(outdir, ros, subject or "{unit_name}绩效表审核意见（请修改后发回）", context)
        else:
            text = Path(letter).read_text(encoding="utf-8") if letter else m.DEFAULT_LETTER
            messages, missing = m.plan_templates(outdir, ros, text, subject or "{year}年度预算绩效目标表（{unit_name}）",
                                                 context)
    except (FileNotFoundError, KeyError) as exc:
        raise click.ClickException(f"无法生成邮件：{exc}") from None
    for line in missing:
        click.echo(f"未生成：{line}")
    if dry_run:
        for msg in messages:
            click.echo(f"将发给 {msg.unit_name} <{msg.to}>：{msg.subject}，附件 {msg.attachment.name}")
        click.echo(f"共 {len(messages)} 封（未写草稿、未发送）")
        return
    drafts = m.write_drafts(messages, Path(outdir) / "邮件草稿", sender, from_name)
    click.echo(f"邮件草稿 {len(drafts)} 封：{Path(outdir) / '邮件草稿'}")
    if do_send:
        if not smtp:
            raise click.ClickException("发送需要 --smtp 服务器")
        password = os.environ.get(m.PASSWORD_ENV)
        if password is None and security != "none":
            password = click.prompt("SMTP 密码", hide_input=True, default="", show_default=False) or None
        port = port or {"ssl": 465, "starttls": 587, "none": 25}[security]
        try:
            counts = m.send(messages, Path(outdir) / m.SENT_LOG, smtp, port, sender, password, user=user,
                            security=security, interval=interval, sender_name=from_name, echo=click.echo)
        except (OSError, m.smtplib.SMTPException) as exc:
            raise click.ClickException(f"连接或登录 SMTP 服务器失败：{exc}（已发送的记录在 {m.SENT_LOG}，重试不会重发）") from None
        click.echo(f"已发送 {counts['sent']} 封，此前已发送跳过 {counts['skipped']} 封，失败 {counts['failed']} 封；"
                   f"记录：{Path(outdir) / m.SENT_LOG}")


def _sheet_names(path) -> set[str]:
    """The sheets of a workbook, or the tables of a CSV export folder (empty when neither)."""
    path = Path(path)
    if path.is_dir():
        return {p.stem for p in path.glob("*.csv")}
    try:
        from python_calamine import CalamineWorkbook
        return set(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:
        return set()


def _is_summary(path) -> bool:
    """A summary workbook written by collect (it has 文件清单 and 指标明细 sheets, no stamp)."""
    return {"文件清单", "指标明细"} <= _sheet_names(path) if str(path).endswith(".xlsx") else False


@cli.command()
@click.argument("inbox", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), default=None, help="名单")
@click.option("--year", type=int, default=None, help="年度（默认取多数文件的年度）")
@click.option("--no-pdf", is_flag=True, help="不转换 PDF（转换需要 LibreOffice）")
def publish(inbox, outdir, roster, year, no_pdf):
    """把收回并审核过的表做成公开用的文本：每个单位的部门预算绩效文本（docx、xlsx、pdf）和全县汇总。

    输入可以是收件箱（文件、文件夹），也可以是 collect 写出的汇总工作簿或 CSV 导出文件夹。

    \b
    示例：
        perftables publish 收件箱/ -o 公开/ --roster examples/roster.csv
        perftables publish 汇总.xlsx -o 公开/
    """
    from .collect import Collection
    from .collect import collect as run
    from .publish import publish as run_publish
    from .summary import returns_from_summary

    try:
        ros = read_roster(roster) if roster else None
    except RosterError as exc:
        raise click.ClickException(str(exc)) from None
    summaries = [s for s in inbox if (Path(s) / "指标明细.csv").is_file() or str(s).endswith(".xlsx") and _is_summary(s)]
    dept = [s for s in inbox if {"文件清单", "部门指标"} <= _sheet_names(s)]
    if dept:
        raise click.ClickException(f"“{dept[0]}”是部门整体表的汇总：部门整体表请从收回的文件（收件箱）发布，"
                                   "汇总里没有逐格的原表内容")
    if summaries:
        col = Collection(roster=ros)
        col.files = [r for s in summaries for r in returns_from_summary(s)]
        col.year = year or next((r.payload["year"] for r in col.files), None)
    else:
        col = run(inbox, roster=ros, year=year)
    written = run_publish(col, outdir, pdf=not no_pdf)
    for path in written:
        click.echo(str(path))
    click.echo(f"共 {len(written)} 个文件")


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
