"""The round on the command line: init, key new, status, void, accept — and `round_aware`, which lets every
command of the cycle take what it is not given from the round it runs in (cycle.round)."""
from __future__ import annotations

import contextlib
import os
import datetime as dt
import functools
from pathlib import Path

import click

from ..core.dates import parse_date
from ..core.errors import PerftablesError
from ..core.files import write_csv
from ..cycle.board import HEAD, board, counts, decide
from ..cycle.round import Round, backup_advice, find_round, init_round
from ..cycle.state import Action
from ..io import keys

EMPTY = (None, "", ())


class MissingOption(PerftablesError):
    """A command outside a round was not given what it needs."""


class DateType(click.ParamType):
    """A date as people write it: 2025-01-15, 2025/1/15, 2025年1月15日."""
    name = "日期"

    def convert(self, value, param, ctx):
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()
ROUND_HELP = "本轮文件夹（默认：当前文件夹或它的上级，如果是用 perftables init 建立的一轮）"


def round_aware(command: str, required: dict | None = None, key: bool = False, fallback: dict | None = None):
    """A command of the cycle: inside a round (the current folder, or --round) what it is not given comes from
    设置.toml; outside a round it needs its options as before. required: option → how it is written (for the
    message); key: the command signs or verifies, so the round's key is used (and refused when missing);
    fallback: defaults applied last (outside a round, or when the round has none)."""
    def wrap(f):
        @functools.wraps(f)
        def run(round_dir=None, **kw):
            rnd = find_round(round_dir)
            if rnd is not None:
                for name, value in rnd.options_for(command).items():
                    if name in kw and kw[name] in EMPTY:
                        kw[name] = value
            for name, value in (fallback or {}).items():
                if kw.get(name) in EMPTY:
                    kw[name] = value
            missing = [flag for name, flag in (required or {}).items() if kw.get(name) in EMPTY]
            if missing:
                raise click.UsageError(f"缺少 {'、'.join(missing)}（在本轮文件夹中运行、或用 --round 指定本轮文件夹时"
                                       "取自设置.toml）", click.get_current_context(silent=True))
            with rnd.using_key() if rnd is not None and key else contextlib.nullcontext():
                return f(rnd=rnd, **kw)
        return click.option("--round", "round_dir", type=click.Path(file_okay=False), default=None,
                            help=ROUND_HELP)(run)
    return wrap


def need_round(round_dir) -> Round:
    rnd = find_round(round_dir)
    if rnd is None:
        raise MissingOption("这个命令在一轮中使用：请在本轮文件夹中运行，或用 --round 指定本轮文件夹"
                            "（用 perftables init 建立一轮）")
    return rnd


@click.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--year", required=True, type=click.IntRange(2000, 2099), help="预算年度，如 2025")
@click.option("--form", "form_id", required=True, help="表式（见 perftables forms），如 hebei-project")
@click.option("--roster", required=True, type=click.Path(exists=True, dir_okay=False), help="名单（CSV/xlsx）")
@click.option("--title", default="", help="本轮标题，如“青溪县2025年项目支出绩效目标”")
@click.option("--issuer", default="", help="发文单位，如“青溪县财政局”")
@click.option("--deadline", type=DATE, default=None, help="报送截止日期：2025-01-15、2025/1/15 或 2025年1月15日")
@click.option("--contact", default="", help="联系人及电话")
@click.option("--taxonomy", default="", help="指标体系：classic / effect / mof2021（默认按表式）")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="沿用已有的签名密钥文件（默认为本轮新生成一个；自评轮次沿用目标轮次的密钥）")
@click.option("--targets", type=click.Path(exists=True), default=None,
              help="自评轮次：已批复的目标表（目标轮次的汇总工作簿或收件箱）")
@click.option("--execution", type=click.Path(exists=True, dir_okay=False), default=None, help="自评轮次：执行数据 CSV")
@click.option("--department", type=click.Path(exists=True, dir_okay=False), default=None,
              help="部门整体轮次：部门数据（CSV/xlsx）")
def init(folder, year, form_id, roster, title, issuer, deadline, contact, taxonomy, key_file, targets, execution,
         department):
    """建立一轮填报：本轮文件夹（设置、名单、签名密钥、本轮记录和各环节的文件夹）。

    \b
    示例：
        perftables init 青溪县2025目标 --year 2025 --form hebei-project --roster 名单.csv \\
            --title 青溪县2025年项目支出绩效目标 --issuer 青溪县财政局 --deadline 2025/1/15
    之后在本轮文件夹里运行 generate、mail、fetch、collect、status、approve、publish，不必再给选项。
    """
    rnd = init_round(folder, year, form_id, roster, title=title, issuer=issuer, deadline=deadline,
                     contact=contact, key=key_file, taxonomy=taxonomy,
                     files={"targets": targets, "execution": execution, "department": department})
    click.echo(f"已建立本轮：{rnd.folder}（{rnd.title}）")
    click.echo(f"  设置：{rnd.settings.path}（可用记事本修改）")
    click.echo(f"  名单：{rnd.roster_path}；签名密钥：{rnd.key_path}（{'沿用' if key_file else '新生成'}）")
    click.echo(f"  文件夹：{'、'.join(p.name for p in sorted(rnd.folder.iterdir()) if p.is_dir())}")
    for line in backup_advice(rnd):
        click.echo(line)
    step = "selfeval（生成自评表" if rnd.kind.is_selfeval else "generate（生成模板"
    click.echo(f"下一步：cd {rnd.folder}，然后 perftables {step}到 {rnd.templates.name}）")


@click.group("key")
def key_group():
    """签名密钥：perftables key new 生成一个新密钥（不在一轮中工作时）。"""


@key_group.command("new")
@click.option("--path", type=click.Path(dir_okay=False), default=None,
              help="密钥文件放在哪里（默认：本机的设置文件夹，或环境变量 PERFTABLES_KEY 指定的文件）")
def key_new(path):
    """生成一个新的签名密钥（已有的从不覆盖）。一轮的密钥由 perftables init 生成，不用这个命令。"""
    made = keys.new_key(Path(path) if path else None)
    click.echo(f"已生成签名密钥：{made.path}。只复制到收表用的电脑，不要发给填表单位；请备份它。")


@click.command()
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="同时写出 CSV（Excel/WPS 可直接打开）")
@click.option("--round", "round_dir", type=click.Path(file_okay=False), default=None, help=ROUND_HELP)
def status(csv_path, round_dir):
    """本轮进度：名单中每个单位一行——状态、报送次数、最近收到、错误和警告、逾期天数、待确认的文件。"""
    rnd = need_round(round_dir)
    roster = rnd.roster()
    with rnd.store() as store:
        lines = board(roster, rnd.ledger(store), store)
    click.echo(f"{rnd.title}（{rnd.folder}）  {dt.date.today():%Y-%m-%d}"
               + (f"  截止 {rnd.deadline_text}" if rnd.deadline_text else ""))
    for line in lines:
        extra = [f"{line.versions} 次报送" if line.versions else "",
                 f"最近 {line.last}" if line.last else "",
                 f"错误 {line.errors}" if line.errors else "", f"警告 {line.warnings}" if line.warnings else "",
                 f"逾期 {line.days_late} 天" if line.days_late else "",
                 f"待确认：{line.pending}" if line.pending else ""]
        click.echo(f"{line.code} {line.name}  {line.state}  " + "，".join(x for x in extra if x))
    click.echo("合计：" + "，".join(f"{k} {v}" for k, v in counts(lines).items()) + f"（共 {len(lines)} 个单位）")
    if csv_path:
        write_csv(csv_path, [HEAD], [line.row() for line in lines])
        click.echo(f"CSV：{csv_path}")


def _decision_command(action: Action, name: str, doc: str):
    @click.command(name, help=doc)
    @click.argument("version")
    @click.option("--note", default="", help="说明（记入本轮记录）")
    @click.option("--by", default="", help="决定人（记入本轮记录）")
    @click.option("--round", "round_dir", type=click.Path(file_okay=False), default=None, help=ROUND_HELP)
    def command(version, note, by, round_dir):
        rnd = need_round(round_dir)
        with rnd.store() as store:
            decision, v = decide(store, version, action, by=by, note=note)
        click.echo(f"已记录：{v['source']}（{v['sha256'][:12]}，{decision.unit or '单位不明'}）{action}。"
                   "重新运行 perftables collect，汇总和进度即按此更新")
    return command


void = _decision_command(Action.VOID, "void", "作废一个收到的版本（文件名或 SHA-256 前 8 位以上）：它不再是任何单位的报送，"
                         "文件本身留在收件箱里不动。")
accept = _decision_command(Action.ACCEPT, "accept", "采用一个版本（文件名或 SHA-256 前 8 位以上）：待确认的文件经核实后采用，"
                           "或让单位较早的一份代替较新的一份，作为该单位的报送。")
@click.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--host", default=None, help="监听地址（默认取设置 [web] host，即 127.0.0.1：只有本机能打开）")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="端口（默认取设置 [web] port）")
@click.option("--set-password", is_flag=True, help="设置协调人登录密码（提示输入，或取环境变量 PERFTABLES_ADMIN_PASSWORD）")
def serve(folder, host, port, set_password):
    """本轮的网页：各单位凭链接上传、立即看到审核结果；协调人登录后看进度、确认通过、作废或采用。

    \b
    示例：
        perftables serve --set-password        （第一次：设置协调人密码）
        perftables serve                        （在本轮文件夹中；浏览器打开显示的地址）
        perftables links --csv 上传链接.csv       （各单位的上传链接）
    """
    from ..api.console import console
    from ..web.app import ADMIN_META
    from ..web.security import hash_password
    from ..web.serve import exposure, run
    rnd = find_round(folder) if folder else need_round(None)
    if set_password:
        password = os.environ.get(PASSWORD_ENV) or click.prompt("协调人密码", hide_input=True, confirmation_prompt="再输一次")
        if len(password) < 8:
            raise MissingOption("密码至少 8 位")
        with rnd.store() as store:
            store.set_meta(ADMIN_META, hash_password(password))
        click.echo(f"已设置协调人密码（只保存加盐的散列，在 {rnd.state_path.name} 中）")
        return
    with rnd.store() as store:
        if not store.meta(ADMIN_META):
            raise MissingOption("还没有协调人密码，进度页无法登录：先运行 perftables serve --set-password")
    web = rnd.settings
    host, port = host or web["web.host"], port or web["web.port"]
    with rnd.using_key():
        app = console(rnd)
        click.echo(f"{rnd.title}：网页已启动 http://{host}:{port}/ （协调人登录）；各单位的上传链接：perftables links")
        warning = exposure(host)
        if warning:
            click.echo(warning, err=True)
        click.echo("按 Ctrl+C 停止")
        run(app, host, port, max_mb=web["web.max_upload_mb"])


PASSWORD_ENV = "PERFTABLES_ADMIN_PASSWORD"


@click.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="同时写出 CSV")
@click.option("--revoke", multiple=True, help="作废这个单位的旧链接、换一个新的（可给多次）")
def links(folder, csv_path, revoke):
    """各单位的上传链接（凭链接打开本单位的网页上传、查看审核结果；不需要账号）。"""
    from ..cycle.links import link_url, unit_links
    rnd = find_round(folder) if folder else need_round(None)
    roster = rnd.roster()
    unknown = [c for c in revoke if roster.unit(c) is None]
    if unknown:
        raise MissingOption("名单中没有这些单位编码：" + "、".join(unknown))
    with rnd.store() as store:
        tokens = unit_links(store, rnd.key(), [u.code for u in roster.units], revoke=tuple(revoke))
    base = rnd.settings["web.base_url"]
    rows = [[u.code, u.name, link_url(base, tokens[u.code])] for u in roster.units]
    for row in rows:
        click.echo("  ".join(row))
    if not base:
        click.echo("注意：设置.toml 的 [web] base_url 还没填，链接只有路径部分；填上本机在局域网的地址"
                   "（如 http://192.168.1.20:8080）后再运行本命令", err=True)
    for code in revoke:
        click.echo(f"{code} 的旧链接已作废", err=True)
    if csv_path:
        write_csv(csv_path, [["单位编码", "单位名称", "上传链接"]], rows)
        click.echo(f"CSV：{csv_path}")


COMMANDS = (init, key_group, status, void, accept, serve, links)
