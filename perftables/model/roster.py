"""The roster: units, their projects, budgets and contacts (CSV or xlsx).

One row per project; a unit with no project yet is a row with the project
columns empty. Codes stay text. Every problem names its row and column, and all
problems are reported at once.
"""
from __future__ import annotations

import csv
import re
import io
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import PerftablesError, describe_exception
from ..core.resources import CONTROL_RE
from ..core.text import code_key, has_hidden, unit_code_problem
from ..core.value import DEFAULT_MONEY, MONEY_UNITS, clean, convert_money, format_number, parse_amount
from ..core.files import describe_os_error

# canonical key → accepted headers (Chinese first: it is what the user sees in messages)
COLUMNS = {
    "unit_code": ["单位编码", "unit_code", "unit code", "unitcode"],
    "unit_name": ["单位名称", "unit_name", "unit name", "unit"],
    "project_code": ["项目编码", "project_code", "project code"],
    "project_name": ["项目名称", "project_name", "project name", "project"],
    "budget": ["预算数", "budget"],
    "fiscal": ["财政资金", "其中：财政资金", "fiscal", "fiscal_funds"],
    "other": ["其他资金", "other", "other_funds"],
    "use": ["资金用途", "项目资金主要用途", "use", "purpose"],
    "contact": ["联系人", "contact"],
    "phone": ["联系电话", "phone", "tel"],
    "email": ["邮箱", "电子邮箱", "email", "e-mail", "mail"],
    "category": ["支出项目类别", "项目类别", "category"],
    "total_budget": ["项目总预算", "total_budget"],
    "form": ["表式", "form"],
    "taxonomy": ["指标体系", "taxonomy"],
}
REQUIRED = ("unit_code", "unit_name")
# the roster's amounts are kept in 万元 (a column headed “预算数（元）” is read in 元 and converted); a form in
# another unit gets them converted when its workbook is made
ROSTER_MONEY = DEFAULT_MONEY
_MONEY_HEADER = re.compile(r"^(.*?)\s*[（(](" + "|".join(MONEY_UNITS) + r")[）)]\s*$")


def money_header(header: str) -> tuple[str, str | None]:
    """A column's name and the money unit its header says (“全年执行数（元）” → 全年执行数, 元; None: none said)."""
    m = _MONEY_HEADER.match(header)
    return (m.group(1).strip(), m.group(2)) if m else (header.strip(), None)
AMOUNT_TOLERANCE = 0.005


class RosterError(PerftablesError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Project:
    code: str
    name: str
    budget: float | None = None
    fiscal: float | None = None
    other: float | None = None
    use: str = ""
    extra: dict = field(default_factory=dict)   # form-specific pre-filled data (self-evaluation: approved targets)

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "budget": self.budget, "fiscal": self.fiscal,
                "other": self.other, "use": self.use, **self.extra}


@dataclass
class Unit:
    code: str
    name: str
    contact: str = ""
    phone: str = ""
    email: str = ""
    form: str = ""
    taxonomy: str = ""
    projects: list[Project] = field(default_factory=list)
    extra: dict = field(default_factory=dict)   # form-specific data: "dept" figures, indicator "history"

    @property
    def budget(self) -> float:
        return round(sum(p.budget or 0 for p in self.projects), 2)


@dataclass
class Roster:
    units: list[Unit]
    path: str = ""

    def unit(self, code: str) -> Unit | None:
        """The unit of a code as found anywhere (a stamp, a file name, a Word table, a mail): compared as a
        person means it (full-width digits, invisible characters — code_key)."""
        found = next((u for u in self.units if u.code == code), None)
        if found is None and code:
            key = code_key(code)
            found = next((u for u in self.units if u.code == key), None) if key != code else None
        return found


def _cell_text(value) -> str:
    """Codes and names as text: a float 1.0 read from xlsx is "1", never "1.0"."""
    if isinstance(value, float):
        return format_number(value)
    return clean(value)


SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods")


def read_rows(path: Path) -> list[list]:
    """The first sheet of an xlsx/xls/et/ods, or a CSV in UTF-8 (with or without BOM) or GBK, as rows."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError([describe_os_error(exc, "读取")]) from None
    if data[:2] == b"PK" or data[:4] == b"\xd0\xcf\x11\xe0":
        from python_calamine import CalamineWorkbook
        try:
            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            return [list(r) for r in wb.get_sheet_by_index(0).to_python(skip_empty_area=False)]
        except Exception as exc:   # a damaged or encrypted workbook, a zip that is not one
            raise RosterError([f"{path.name}：不是能读取的电子表格（{describe_exception(exc)}），"
                               "请用 Excel/WPS 打开确认后另存为 .xlsx 或 CSV"]) from None
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        raise RosterError([f"{path.name}：文件名是 {path.suffix}，但内容不是电子表格（可能是改了扩展名的其他文件），"
                           "请用 Excel/WPS 打开确认后另存为 .xlsx 或 CSV"])
    if b"\0" in data[:4096]:
        raise RosterError([f"{path.name}：不是电子表格，也不是 CSV 文本文件"])
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterError([f"{path.name}：无法识别文件编码（应为 UTF-8 或 GBK 的 CSV）"])
    try:
        return [row for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise RosterError([f"{path.name}：CSV 格式有误（{exc}）"]) from None


def _table(path, what: str) -> tuple[Path, list[list], list[str]]:
    """(path, rows, header texts) of a roster-like file; a missing or empty file is a RosterError."""
    path = Path(path)
    if not path.is_file():
        raise RosterError([f"找不到{what}：{path}"])
    rows = read_rows(path)
    if not rows:
        raise RosterError([f"{path.name}：文件是空的"])
    return path, rows, [_cell_text(h) for h in rows[0]]


_CONTROL = CONTROL_RE
_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


def parse_emails(text: str) -> tuple[list[str], str | None]:
    """The addresses of an e-mail cell: one, or several separated by semicolons (; or ；).
    Returns (addresses, problem); a comma, a name or anything else than plain addresses is a problem."""
    text = text.strip()
    if _CONTROL.search(text):
        return [], "邮箱含有换行或控制字符"
    if "," in text or "，" in text:
        return [], f"邮箱“{text}”中有逗号：多个邮箱请用分号“;”分隔"
    parts = [p.strip() for p in re.split(r"[;；]", text) if p.strip()]
    for part in parts:
        if not _ADDRESS.match(part):
            return [], f"“{part}”不是有效的邮箱地址（应形如 name@example.cn；多个用分号分隔）"
    if len(parts) > 10:
        return [], "邮箱超过 10 个"
    return parts, None


def read_roster(path) -> Roster:
    path, rows, header = _table(path, "名单文件")
    reader = _RosterReader(path, header)
    for rowno, row in enumerate(rows[1:], start=2):
        reader.row(rowno, row)
    if reader.problems:
        raise RosterError(reader.problems)
    if not reader.units:
        raise RosterError([f"{path.name}：名单中没有任何单位"])
    return Roster(units=list(reader.units.values()), path=str(path))


class _RosterReader:
    """The roster's rows into units and projects; every problem said with its row and the column as headed."""

    def __init__(self, path: Path, header: list[str]):
        self.path, self.header = path, header
        lookup = {alias.lower(): key for key, aliases in COLUMNS.items() for alias in aliases}
        self.colmap: dict[str, int] = {}
        self.money: dict[str, str] = {}   # an amount column headed with its unit (预算数（元）)
        for i, h in enumerate(header):
            m = _MONEY_HEADER.match(h)
            direct = lookup.get(h.lower())
            key = direct or (lookup.get(m.group(1).lower()) if m else None)
            if key and key not in self.colmap:
                self.colmap[key] = i
                if direct is None:
                    self.money[key] = m.group(2)
        problems = [f"{path.name}：缺少“{COLUMNS[k][0]}”列" for k in REQUIRED if k not in self.colmap]
        if problems:
            raise RosterError(problems)
        self.problems: list[str] = []
        self.units: dict[str, Unit] = {}
        self.seen_projects: dict[str, int] = {}

    def title(self, key: str) -> str:
        return self.header[self.colmap[key]]

    def row(self, rowno: int, row: list) -> None:
        colmap, problems, title = self.colmap, self.problems, self.title
        get = {k: (_cell_text(row[i]) if i < len(row) else "") for k, i in colmap.items()}
        raw = {k: (row[i] if i < len(row) else None) for k, i in colmap.items()}
        if not any(get.values()):
            return
        where = f"{self.path.name} 第{rowno}行"
        bad = [k for k, v in get.items() if _CONTROL.search(v) and k not in ("use",)]
        for key in bad:   # a line break or control character ends up in a file name or a mail header
            problems.append(f"{where}“{title(key)}”列：含有换行或控制字符，请删掉（单元格内不要换行）")
        if bad:
            return
        hidden = [k for k, v in get.items() if k not in ("unit_code", "project_code") and has_hidden(v)]
        for key in hidden:   # a direction override shows one name and files another (“回执\u202exslx.exe”)
            problems.append(f"{where}“{title(key)}”列：含有看不见的字符（零宽字符或改变文字方向的字符），请删掉后重新输入")
        if hidden:
            return
        for key in ("unit_code", "project_code"):   # identity: full-width digits and invisible characters go
            if get.get(key):
                get[key] = code_key(get[key])
        if get.get("email"):
            addresses, problem = parse_emails(get["email"])
            if problem:
                problems.append(f"{where}“{title('email')}”列：{problem}")
                return
            get["email"] = ";".join(addresses)
        unit = self.unit(get, where)
        if unit is not None:
            self.project(unit, get, raw, rowno, where)

    def unit(self, get: dict, where: str) -> Unit | None:
        code, name, title = get.get("unit_code", ""), get.get("unit_name", ""), self.title
        if not code:
            self.problems.append(f"{where}“{title('unit_code')}”列：单位编码为空")
            return None
        if not name:
            self.problems.append(f"{where}“{title('unit_name')}”列：单位名称为空")
            return None
        problem = unit_code_problem(code)
        if problem:   # what generate accepts, collect must accept: the code goes into stamps and file names
            self.problems.append(f"{where}“{title('unit_code')}”列：{problem}")
            return None
        unit = self.units.get(code)
        if unit is None:
            unit = self.units[code] = Unit(code=code, name=name)
        elif unit.name != name:
            self.problems.append(f"{where}“{title('unit_name')}”列：单位编码 {code} 前面写作“{unit.name}”，这里写作“{name}”")
        for key in ("contact", "phone", "email", "form", "taxonomy"):
            if get.get(key) and not getattr(unit, key):
                setattr(unit, key, get[key])
        return unit

    def project(self, unit: Unit, get: dict, raw: dict, rowno: int, where: str) -> None:
        colmap, problems, title = self.colmap, self.problems, self.title
        pcode, pname = get.get("project_code", ""), get.get("project_name", "")
        if not pcode and not pname:
            return  # a unit without projects yet
        if not pcode and "project_code" not in colmap:
            # a province without project codes: the roster has no such column, the form no such cell —
            # the project is known by its unit and place in the roster (never printed)
            pcode = f"{unit.code}-{len(unit.projects) + 1:03d}"
        if not pcode or not pname:
            missing = "project_code" if not pcode else "project_name"
            problems.append(f"{where}“{title(missing) if missing in colmap else COLUMNS[missing][0]}”列：项目编码和项目名称须同时填写")
            return
        if pcode in self.seen_projects:
            problems.append(f"{where}“{title('project_code')}”列：项目编码 {pcode} 与第{self.seen_projects[pcode]}行重复")
            return
        self.seen_projects[pcode] = rowno
        budget, fiscal, other = self.amounts(raw, where)
        extra = {}
        if get.get("category"):
            extra["category"] = get["category"]
        if get.get("total_budget"):
            extra["total_budget"] = self.amount(raw, "total_budget", where)
        unit.projects.append(Project(code=pcode, name=pname, budget=budget, fiscal=fiscal, other=other,
                                     use=get.get("use", ""), extra=extra))

    def amount(self, raw: dict, key: str, where: str) -> float | None:
        """One amount of a row, in 万元 (in the unit its column is headed with, converted)."""
        unit = self.money.get(key, ROSTER_MONEY)
        amount = parse_amount(raw[key], unit)
        if amount.error:
            self.problems.append(f"{where}“{self.title(key)}”列：{amount.error}")
        return convert_money(amount.value, unit, ROSTER_MONEY)

    def amounts(self, raw: dict, where: str) -> tuple:
        """预算数, 财政资金, 其他资金: read as amounts, a part not given made from the others, their sum checked."""
        budget, fiscal, other = (self.amount(raw, key, where) if key in self.colmap else None
                                 for key in ("budget", "fiscal", "other"))
        if budget is not None:
            if fiscal is None and other is None:
                fiscal, other = budget, 0.0
            elif other is None:
                other = 0.0
            elif fiscal is None:
                fiscal = round(budget - other, 6)
            if abs(budget - (fiscal + other)) > AMOUNT_TOLERANCE:
                self.problems.append(f"{where}“{self.title('budget')}”列：预算数 {format_number(budget)} ≠ 财政资金 "
                                     f"{format_number(fiscal)} + 其他资金 {format_number(other)}")
        return budget, fiscal, other


def department_columns(form) -> dict[str, tuple[str, str]]:
    """Column title → (field, type) of what a department roster may give: the form's roster fields,
    named as the form names them (previous years as “…（上年）”“…（前年）”)."""
    return {cell.title: (cell.field, cell.type) for _, cell in form.cells() if cell.source == "roster" and cell.field}


def read_department(path, form) -> dict[str, dict]:
    """单位编码 → the department's figures and texts, from a CSV/xlsx whose columns are the form's titles."""
    path, rows, header = _table(path, "部门数据文件")
    known = department_columns(form)
    code_col = next((i for i, h in enumerate(header) if h.lower() in COLUMNS["unit_code"]), None)
    problems = [] if code_col is not None else [f"{path.name}：缺少“单位编码”列"]
    unknown = [h for i, h in enumerate(header) if h and i != code_col and h not in known
               and h.lower() not in COLUMNS["unit_name"]]
    if unknown:
        problems.append(f"{path.name}：不认识的列 " + "、".join(f"“{h}”" for h in unknown) +
                        "（可用的列：" + "、".join(known) + "）")
    if problems:
        raise RosterError(problems)
    out: dict[str, dict] = {}
    for rowno, row in enumerate(rows[1:], start=2):
        cells = {h: (row[i] if i < len(row) else None) for i, h in enumerate(header)}
        code = _cell_text(row[code_col]) if code_col < len(row) else ""
        if not code:
            if any(_cell_text(v) for v in row):
                problems.append(f"{path.name} 第{rowno}行：单位编码为空")
            continue
        record = {}
        for title, (field_key, kind) in known.items():
            if title not in cells or _cell_text(cells[title]) == "":
                continue
            if kind == "amount":   # in the form's unit, as its titles are; kept in the roster's
                amount = parse_amount(cells[title], form.money)
                if amount.error:
                    problems.append(f"{path.name} 第{rowno}行“{title}”列：{amount.error}")
                record[field_key] = convert_money(amount.value, form.money, ROSTER_MONEY)
            else:
                record[field_key] = _cell_text(cells[title]) if not isinstance(cells[title], str) else cells[title].strip()
        out[code] = record
    if problems:
        raise RosterError(problems)
    return out


def attach_department(roster: Roster, department: dict[str, dict]) -> list[str]:
    """Give each unit its department data; the codes of the data that matched no unit are returned."""
    for unit in roster.units:
        if unit.code in department:
            unit.extra["dept"] = department[unit.code]
    return sorted(set(department) - {u.code for u in roster.units})
