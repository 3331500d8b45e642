"""The round's settings: one file, 设置.toml, written by `perftables init` with a Chinese comment on every
line, edited by hand (Notepad), and checked again by every command — a mistake is a message naming the
file, the line and the key, never a setting silently ignored.

One table (SPEC) says every setting: its section, key, type, default and the comment `init` writes; the
reader, the writer and the manual's list are made from it."""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..core.dates import EXAMPLES as DATE_EXAMPLES, parse_date
from ..core.errors import PerftablesError, describe_exception
from ..forms.form import FormError, load_form, load_taxonomy

SETTINGS_NAME = "设置.toml"


class SettingsError(PerftablesError):
    """设置.toml has a mistake: the message names the file, the line and the key."""


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    type: str              # int, str, date, path, float, choice
    default: object
    comment: str
    choices: tuple = ()
    required: bool = False


SECTIONS = {"round": "本轮", "mail": "发送邮件（perftables mail）", "fetch": "取回邮件（perftables fetch）",
            "web": "网页（perftables serve）"}
SPEC = (
    Setting("round", "year", "int", None, "预算年度（四位数字）", required=True),
    Setting("round", "form", "str", "", "表式（perftables forms 列出全部），如 hebei-project、hebei-selfeval、hubei-dept",
            required=True),
    Setting("round", "taxonomy", "str", "", "指标体系：classic / effect / mof2021（空：表式默认）"),
    Setting("round", "title", "str", "", "本轮标题，印在汇总和公开文本上，如“青溪县2025年项目支出绩效目标”"),
    Setting("round", "issuer", "str", "", "发文单位，如“青溪县财政局”"),
    Setting("round", "deadline", "date", None, f"报送截止日期（{DATE_EXAMPLES}；文字要加英文双引号）"),
    Setting("round", "contact", "str", "", "联系人及电话，写入填报说明和审核意见"),
    Setting("round", "roster", "path", "名单.csv", "名单文件（相对本文件夹）"),
    Setting("round", "password", "str", "", "工作表保护密码（空：不设密码）"),
    Setting("round", "targets", "path", "", "自评轮次：已批复的目标表（上一轮的汇总工作簿或收件箱，相对本文件夹）"),
    Setting("round", "execution", "path", "", "自评轮次：执行数据 CSV（项目编码、全年预算数、全年执行数）"),
    Setting("round", "department", "path", "", "部门整体轮次：部门数据（CSV/xlsx）"),
    Setting("mail", "sender", "str", "", "发件人邮箱"),
    Setting("mail", "sender_name", "str", "", "发件人名称，如“青溪县财政局预算科”"),
    Setting("mail", "smtp", "str", "", "SMTP 服务器，如 smtp.example.cn（密码从不写在这里）"),
    Setting("mail", "port", "int", 0, "端口（0：按加密方式默认）"),
    Setting("mail", "security", "choice", "ssl", "加密方式：ssl / starttls / none", choices=("ssl", "starttls", "none")),
    Setting("mail", "user", "str", "", "登录名（空：同发件人）"),
    Setting("mail", "interval", "float", 2.0, "两封邮件之间的间隔（秒）"),
    Setting("fetch", "imap", "str", "", "IMAP 服务器，如 imap.qq.com"),
    Setting("fetch", "port", "int", 0, "端口（0：按加密方式默认）"),
    Setting("fetch", "security", "choice", "ssl", "加密方式：ssl / starttls", choices=("ssl", "starttls")),
    Setting("fetch", "user", "str", "", "登录名（邮箱地址；密码从不写在这里）"),
    Setting("fetch", "folder", "str", "收件箱", "邮箱文件夹"),
    Setting("fetch", "since", "date", None, "只取这天以后收到的邮件（空：全部）"),
    Setting("web", "base_url", "str", "", "各单位访问本机网页的地址，如 http://192.168.1.20:8080（上传链接由它组成）"),
    Setting("web", "host", "str", "127.0.0.1", "网页在哪个地址监听（127.0.0.1：只有本机；0.0.0.0：局域网）"),
    Setting("web", "port", "int", 8080, "网页端口"),
    Setting("web", "max_upload_mb", "int", 20, "单个上传文件的上限（MB）"),
    Setting("web", "session_minutes", "int", 30, "登录后多久不操作需重新登录（分钟）"),
)
BY_KEY = {(s.section, s.key): s for s in SPEC}


@dataclass(frozen=True)
class Settings:
    """Every setting of a round, checked: values[(section, key)]; paths resolved against the round folder."""
    path: Path
    values: dict

    def __getitem__(self, name: str):
        section, _, key = name.rpartition(".")
        return self.values[(section or "round", key)]

    @property
    def year(self) -> int:
        return self.values[("round", "year")]

    @property
    def form(self) -> str:
        return self.values[("round", "form")]

    @property
    def deadline(self) -> dt.date | None:
        return self.values[("round", "deadline")]

    @property
    def title(self) -> str:
        return self.values[("round", "title")]

    @property
    def issuer(self) -> str:
        return self.values[("round", "issuer")]

    def file(self, key: str) -> Path | None:
        """A path setting of [round], resolved against the round folder (None when empty)."""
        value = self.values[("round", key)]
        return (self.path.parent / value) if value else None


def _line_of(text: str, section: str, key: str | None = None) -> int:
    """The line (1-based) where a key of a section (or the section itself) is written; 0 when nowhere."""
    current = ""
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        head = re.match(r"^\[\s*\"?([^\]\"]+?)\"?\s*\]", stripped)
        if head:
            current = head[1].strip()
            if key is None and current == section:
                return n
            continue
        if key is not None and current == section and re.match(rf"^\"?{re.escape(key)}\"?\s*=", stripped):
            return n
    return 0


def _where(path: Path, text: str, section: str, key: str | None = None) -> str:
    line = _line_of(text, section, key)
    at = f"第 {line} 行，" if line else ""
    name = f"[{section}] {key}" if key else f"[{section}]"
    return f"{path} {at}{name}"


def _convert(spec: Setting, value):
    """A setting's value as its type; ValueError with a Chinese reason."""
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"应是整数，写的是“{value}”")
        if spec.key == "year" and not 2000 <= value <= 2099:
            raise ValueError(f"“{value}”不是合理的预算年度（四位数字，如 2025）")
        if value < 0:
            raise ValueError(f"不能是负数（{value}）")
        return value
    if spec.type == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"应是不小于 0 的数，写的是“{value}”")
        return float(value)
    if spec.type == "date":
        if value in ("", None):
            return None
        if isinstance(value, (dt.time,)) or (isinstance(value, dt.datetime) and value.tzinfo):
            raise ValueError(f"应是日期，写的是“{value}”")
        return parse_date(value)
    if not isinstance(value, str):
        raise ValueError(f"应是文字（用英文双引号括起来），写的是“{value}”")
    value = value.strip()
    if spec.type == "choice" and value not in spec.choices:
        raise ValueError(f"只能是 {' / '.join(spec.choices)}，写的是“{value}”")
    return value


def read_settings(path) -> Settings:
    """Read and check 设置.toml; SettingsError naming file, line and key for any mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SettingsError(f"没有本轮设置文件“{path}”（用 perftables init 建立一轮）") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"本轮设置文件“{path}”无法读取（{describe_exception(exc)}）；请用记事本另存为 UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}：格式不对（{_toml_reason(exc)}）。文字和日期要用英文双引号括起来，"
                            f"如 title = \"青溪县2025年项目支出绩效目标\"、deadline = \"2025/1/15\"") from None
    return Settings(path, _check(path, text, data))


def _toml_reason(exc: Exception) -> str:
    m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    return f"第 {m[1]} 行第 {m[2]} 列" if m else "无法解析"


def _check(path: Path, text: str, data: dict) -> dict:
    values = {(s.section, s.key): s.default for s in SPEC}
    for section, table in data.items():
        if section not in SECTIONS or not isinstance(table, dict):
            raise SettingsError(f"{_where(path, text, section)}：不认识的设置段（可用：{'、'.join(f'[{s}]' for s in SECTIONS)}）")
        for key, value in table.items():
            spec = BY_KEY.get((section, key))
            if spec is None:
                known = "、".join(s.key for s in SPEC if s.section == section)
                raise SettingsError(f"{_where(path, text, section, key)}：不认识的设置（[{section}] 可用：{known}）")
            try:
                values[(section, key)] = _convert(spec, value)
            except ValueError as exc:
                raise SettingsError(f"{_where(path, text, section, key)}：{exc}") from None
    for spec in SPEC:
        if spec.required and values[(spec.section, spec.key)] in (None, ""):
            raise SettingsError(f"{path}：缺少 [{spec.section}] {spec.key}（{spec.comment}）")
    _check_form(path, text, values)
    return values


def _check_form(path: Path, text: str, values: dict) -> None:
    try:
        load_form(values[("round", "form")])
    except FormError as exc:
        raise SettingsError(f"{_where(path, text, 'round', 'form')}：{exc}") from None
    if values[("round", "taxonomy")]:
        try:
            load_taxonomy(values[("round", "taxonomy")])
        except FormError as exc:
            raise SettingsError(f"{_where(path, text, 'round', 'taxonomy')}：{exc}") from None


def _toml_value(spec: Setting, value) -> str:
    if value is None:
        return '""'
    if spec.type in ("int", "float"):
        return str(value)
    if spec.type == "date":
        return f'"{value.isoformat()}"'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_text(values: dict) -> str:
    """设置.toml as init writes it: every setting, its value and a Chinese comment."""
    lines = ["# perftables 本轮设置：本轮的每一项设置都在这里，可以用记事本修改（保存为 UTF-8）。",
             "# 每次运行命令都会重新检查；写错了会指出第几行、哪一项。文字和日期要用英文双引号括起来。",
             "# 命令行上给出的选项优先于这里的设置。"]
    for section, title in SECTIONS.items():
        lines += ["", f"# —— {title} ——", f"[{section}]"]
        for spec in (s for s in SPEC if s.section == section):
            value = values.get((section, spec.key), spec.default)
            lines.append(f"{spec.key} = {_toml_value(spec, value)}    # {spec.comment}")
    return "\n".join(lines) + "\n"


def keys_markdown() -> str:
    """The manual's page of every setting (docs/coordinator/settings.md is made from it)."""
    out = ["# 设置.toml 的全部设置", "",
           "本页由 `perftables.cycle.settings.SPEC` 生成，与程序检查的完全一致。写错的设置名、类型或日期会让命令停下，"
           "并指出文件、第几行、哪一项；没有写的设置取默认值。", "",
           "| 段 | 设置 | 类型 | 默认 | 说明 |", "|---|---|---|---|---|"]
    names = {"int": "整数", "str": "文字", "date": "日期", "path": "文件", "float": "数", "choice": "选一"}
    for s in SPEC:
        default = "" if s.default in (None, "") else s.default
        out.append(f"| [{s.section}] | `{s.key}` | {names[s.type]} | {default} | {s.comment}"
                   f"{'（必填）' if s.required else ''} |")
    return "\n".join(out) + "\n"


def date_text(value) -> str:
    """A date from a person for an option (--deadline): ISO, for the settings; ValueError when it is not one."""
    return parse_date(value).isoformat()
