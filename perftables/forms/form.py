"""Form descriptions: load templates/*.toml into the objects every step reads.

A form file describes one official table once: its printed rows, the indicator
grid, the dropdown lists, what the roster fills and what the unit fills, and the
review parameters. Nothing else in the package knows a label or a cell address.
"""
from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from ..core.errors import PerftablesError, describe_exception
from ..core.kinds import FormKind
from ..core.value import DEFAULT_MONEY
from ..core.resources import environ, ID_RE, TEMPLATES_DIR



# form fields whose project record key (roster, stamp, ProjectReturn attribute) is shorter
FIELD_KEYS = {"project_code": "code", "project_name": "name"}


def record_key(field_key: str) -> str:
    return FIELD_KEYS.get(field_key, field_key)


class FormError(PerftablesError):
    """A form description is missing or inconsistent."""


from ..core.cells import cell_name, col_index, col_letters, norm_label, span  # noqa: F401 (re-exported)
from .check import check, check_taxonomy


def _merge(base: dict, over: dict) -> dict:
    """A child description over its parent: tables merge key by key, everything else replaces;
    a table's `replace = ["key", …]` makes those sub-tables replace too."""
    out = copy.deepcopy(base)
    replace = set(over.get("replace", ()))
    for k, v in over.items():
        if k == "replace":
            continue
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in replace:
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


TEMPLATES_ENV = "PERFTABLES_TEMPLATES"


def template_dirs() -> tuple[Path, ...]:
    """Where descriptions are looked for, in order: the user's folders (PERFTABLES_TEMPLATES, a path list;
    `--templates` sets it), then the packaged templates/."""
    import os
    extra = [Path(p) for p in os.environ.get(TEMPLATES_ENV, "").split(os.pathsep) if p.strip()]
    return tuple(extra) + (TEMPLATES_DIR,)


def with_templates(dirs):
    """Within the block, these folders are searched first (before PERFTABLES_TEMPLATES and the packaged forms)."""
    import os

    before = os.environ.get(TEMPLATES_ENV)
    return environ(TEMPLATES_ENV, os.pathsep.join([str(Path(d).resolve()) for d in dirs] + ([before] if before else [])))


def _find(kind: str, name: str, sub: str = "", dirs: tuple[Path, ...] | None = None) -> Path | None:
    for d in dirs or template_dirs():
        path = d / sub / f"{name}.toml" if sub else d / f"{name}.toml"
        if path.is_file():
            return path
    return None


def _read_toml(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormError(f"{path}：无法读取（{describe_exception(exc)}；描述文件须为 UTF-8 文本）") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f" 第{m.group(1)}行第{m.group(2)}列" if m else ""
        raise FormError(f"{path}{where}：TOML 语法错误（{str(exc).split(' (at')[0]}）；"
                        "常见原因：引号不成对、逗号缺失、同一个键写了两次") from None


def _load_toml(path: Path, seen=(), sources=None, sub: str = "") -> dict:
    """A description with what it `extends` merged in. sources: collects (path, text), child first.
    sub: "taxonomies" for a taxonomy (its parent is a taxonomy, looked for where taxonomies are)."""
    what = "指标体系" if sub else "表式"
    if not path.is_file():
        raise FormError(f"找不到{what}描述文件：{path}")
    data, text = _read_toml(path)
    if sources is not None:
        sources.append((path, text))
    parent = data.pop("extends", None)
    if parent:
        _check_id(f"继承的{what}", parent)
        base_path = _parent_path(path, parent, sub)
        if base_path is None:
            raise FormError(f"{path}：继承的{what}“{parent}”找不到（在 {path.parent} 和表式文件夹中都没有）")
        chain = tuple(seen) + (str(path.resolve()),)
        if str(base_path.resolve()) in chain:
            raise FormError(f"{path}：{what}描述循环继承：{parent}")
        base = _load_toml(base_path, chain, sources, sub)
        data = _merge(base, data)
    return data


def _parent_path(path: Path, parent: str, sub: str) -> Path | None:
    """The description a file extends: beside it, else in the template folders — never the file itself (a
    user's classic.toml may extend the packaged classic)."""
    here = path.resolve()
    candidates = [path.with_name(parent + ".toml")] + [d / sub / f"{parent}.toml" if sub else d / f"{parent}.toml"
                                                       for d in template_dirs()]
    return next((c for c in candidates if c.is_file() and c.resolve() != here), None)


# --------------------------------------------------------------------------- taxonomy

@dataclass
class Level2:
    name: str
    aliases: list[str] = field(default_factory=list)
    seed: bool = False
    pct: bool = False
    reverse: bool = False
    standard: list[str] = field(default_factory=list)   # 三级 names pre-seeded on new forms (部门整体: 运行成本…)


@dataclass
class Level1:
    name: str
    block: str
    required: bool
    aliases: list[str]
    level2: list[Level2]


@dataclass
class Taxonomy:
    id: str
    name: str
    level1: list[Level1]

    @staticmethod
    def _key(text) -> str:
        t = norm_label(text)
        return t[:-2] if t.endswith("指标") else t

    def find_level1(self, text) -> Level1 | None:
        if not hasattr(self, "_l1"):
            self._l1 = {self._key(n): l1 for l1 in self.level1 for n in [l1.name, *l1.aliases]}
        return self._l1.get(self._key(text))

    def find_level2(self, l1: Level1, text) -> Level2 | None:
        if not hasattr(self, "_l2"):
            self._l2 = {(id(a), self._key(n)): l2 for a in self.level1 for l2 in a.level2 for n in [l2.name, *l2.aliases]}
        return self._l2.get((id(l1), self._key(text)))

    def any_level2(self, text) -> tuple[Level1, Level2] | None:
        for l1 in self.level1:
            l2 = self.find_level2(l1, text)
            if l2:
                return l1, l2
        return None

    def seed_rows(self, all_level2: bool) -> list[tuple[str, str, str]]:
        """(一级, 二级, 三级) rows a new form starts with: a row per seeded 二级, or per standard 三级."""
        return [(l1.name, l2.name, name) for l1 in self.level1 for l2 in l1.level2 if all_level2 or l2.seed
                for name in (l2.standard or [""])]


def load_taxonomy(tax_id: str) -> Taxonomy:
    _check_id("指标体系", tax_id)
    return _load_taxonomy(tax_id, template_dirs())


@lru_cache(maxsize=None)
def _load_taxonomy(tax_id: str, dirs: tuple[Path, ...]) -> Taxonomy:
    path = _find("指标体系", tax_id, "taxonomies", dirs)
    if path is None:
        known = "、".join(sorted({p.stem for d in dirs for p in (d / "taxonomies").glob("*.toml")}))
        raise FormError(f"没有指标体系“{tax_id}”。可用：{known}")
    data = _load_toml(path, sub="taxonomies")
    problems = check_taxonomy(data, path)
    if problems:
        raise FormError("\n".join(map(str, problems)))
    rename = data.get("rename", {})
    level1 = []
    for raw in data["level1"]:
        name, aliases = raw["name"], list(raw.get("aliases", []))
        if name in rename:
            aliases = [a for a in aliases if a != rename[name]] + [name]
            name = rename[name]
        level1.append(Level1(name=name, block=raw.get("block", ""), required=raw.get("required", False),
                             aliases=aliases, level2=[Level2(**l2) for l2 in raw.get("level2", [])]))
    return Taxonomy(id=data["id"], name=data.get("name", data["id"]), level1=level1)


def list_taxonomies() -> list[Taxonomy]:
    out, seen = [], set()
    for d in template_dirs():
        for p in sorted((d / "taxonomies").glob("*.toml")):
            if p.stem not in seen:
                seen.add(p.stem)
                try:
                    out.append(load_taxonomy(p.stem))
                except FormError:
                    pass
    return out


# --------------------------------------------------------------------------- layout

@dataclass
class Cell:
    """One printed cell (or merged range) of a row above the grid."""
    col: int
    last_col: int
    rows: int = 1
    label: str | None = None        # constant text, locked
    value: str | None = None        # text template filled from the roster, locked
    field: str | None = None        # data key
    source: str = "unit"            # "roster": pre-filled and locked when known
    type: str = "text"              # text | longtext | amount | plan
    required: bool = False
    prompt: str = ""
    style: str | None = None
    fmt: str | None = None          # number format (plan cells)
    title: str = ""                 # human name used in messages
    formula: str | None = None      # a live formula; {field} names another cell, {grid_<key>} a grid column
    approved: str | None = None     # self-evaluation: pre-filled from this field (or role) of the approved table

    @property
    def is_input(self) -> bool:
        return self.label is None and self.value is None and self.formula is None


@dataclass
class Row:
    anchor: str | None
    height: float | None
    cells: list[Cell]
    offset: int = 0                 # rows below its anchor row (negative: above the first anchor)
    anchor_of: str | None = None    # the anchor this row is addressed from
    table: str | None = None        # this row stands for an inline table of that key (its rows grow)


@dataclass
class GridColumn:
    key: str
    label: str
    col: int
    last_col: int
    list: str | None = None
    strict: bool = False
    prompt: str = ""
    parts: "list[GridColumn]" = field(default_factory=lambda: [])  # noqa: PIE807 (the field `list` shadows the builtin)
    source: str = "unit"            # "target": pre-filled and locked from the approved target
    validate: str | None = None     # number | number_or_na | score_band
    quant: dict | None = None       # per-row variants, chosen by the row's kind
    qual: dict | None = None
    joined: bool = True             # parts print as one value (符号|数值|单位), not as separate columns

    def depth(self) -> int:
        return 1 + max((p.depth() for p in self.parts), default=0)

    def leaves(self) -> "list[GridColumn]":
        return [leaf for p in self.parts for leaf in p.leaves()] if self.parts else [self]

    def variant(self, kind: str | None) -> dict:
        """The column's settings for one row: its own, overridden by the row kind's variant."""
        base = {"list": self.list, "validate": self.validate, "prompt": self.prompt, "formula": None}
        extra = (self.quant if kind == "quant" else self.qual if kind == "qual" else None) or {}
        return {**base, **extra}


@dataclass
class Grid:
    """A block of repeating rows under a header: the indicator grid, or an inline table."""
    key: str
    anchor: str
    columns: list[GridColumn]
    blank_rows: int = 5
    spec: dict = field(default_factory=dict)     # side, end_anchor, formulas, kind, rows_from…

    @property
    def header_rows(self) -> int:
        return max((c.depth() for c in self.columns), default=1)

    @cached_property
    def input_columns(self) -> list[GridColumn]:
        """The columns as the clerk fills them: parts expanded."""
        return [leaf for c in self.columns for leaf in c.leaves()]


@dataclass
class Form:
    id: str
    name: str
    kind: FormKind
    version: str
    taxonomy_id: str
    meta: dict
    lists: dict
    guide: dict
    unit_sheet: dict
    rows: list[Row]
    grid_anchor: str
    grid_blank_rows: int
    grid_columns: list[GridColumn]
    review: dict
    path: Path
    grid: dict = field(default_factory=dict)        # side, end_anchor, formulas
    footer: list[Row] = field(default_factory=list)
    scoring: dict = field(default_factory=dict)
    tables: dict[str, Grid] = field(default_factory=dict)   # inline tables among the rows, by key

    @property
    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(self.taxonomy_id)

    def with_taxonomy(self, tax_id: str | None) -> "Form":
        if not tax_id or tax_id == self.taxonomy_id:
            return self
        load_taxonomy(tax_id)  # fail early on an unknown id
        clone = copy.copy(self)
        clone.taxonomy_id = tax_id
        return clone

    @property
    def ncols(self) -> int:
        return len(self.meta["columns"])

    @property
    def money(self) -> str:
        """The unit the form's amounts are in (元, 千元, 万元): what a bare number typed in it means."""
        return self.meta.get("money", DEFAULT_MONEY)

    # What follows is derived from the description, which is never changed once loaded: each is worked
    # out once a form (it is asked for on every sheet of every return).
    @cached_property
    def main_grid(self) -> Grid:
        return Grid("indicators", self.grid_anchor, self.grid_columns, self.grid_blank_rows, self.grid)

    @cached_property
    def grid_header_rows(self) -> int:
        return self.main_grid.header_rows

    @cached_property
    def input_columns(self) -> list[GridColumn]:
        """Grid columns as the clerk fills them: parts expanded."""
        return self.main_grid.input_columns

    def cells(self):
        """Every (row, cell) above the grid, then below it."""
        for row in self.rows + self.footer:
            for cell in row.cells:
                yield row, cell

    def fields(self) -> dict[str, tuple[Row, Cell]]:
        return dict(self._fields)

    @cached_property
    def _fields(self) -> dict[str, tuple[Row, Cell]]:
        return {c.field: (r, c) for r, c in self.cells() if c.field}

    def target_of(self, field_key: str) -> tuple:
        """("at", form row index, col) of a field above the grid; ("footer", index, col) below it."""
        for kind, rows in (("at", self.rows), ("footer", self.footer)):
            for i, row in enumerate(rows):
                for cell in row.cells:
                    if cell.field == field_key:
                        return (kind, i, cell.col)
        return ()

    def plan_fields(self) -> list[Cell]:
        return list(self._plan_fields)

    @cached_property
    def _plan_fields(self) -> list[Cell]:
        return [c for _, c in self.cells() if c.type == "plan"]

    def has_field(self, key: str) -> bool:
        return key in self._fields

    def has_column(self, key: str) -> bool:
        """Whether the indicator grid has a column of this key (or role)."""
        return any(c.key == key for c in self.input_columns)


def _compile_rows(raw_rows: list[dict], ncols: int, tables: dict | None = None) -> list[Row]:
    rows: list[Row] = []
    for raw in raw_rows:
        if "table" in raw:
            table = (tables or {}).get(raw["table"])
            if table is None:
                raise FormError(f"表式描述中没有表格“{raw['table']}”")
            rows.append(Row(table.anchor, None, [], table=raw["table"]))
            continue
        if "plan" in raw:
            plan = raw["plan"]
            label_cells = [Cell(*span("A"), rows=2, label=raw["anchor"])]
            value_cells = []
            for i, (lab, at) in enumerate(zip(plan["labels"], plan["at"]), 1):
                a, b = span(at)
                label_cells.append(Cell(a, b, label=lab))
                value_cells.append(Cell(a, b, field=f"plan{i}", type="plan", fmt=plan.get("format"),
                                        prompt=plan.get("prompt", ""), title=lab))
            rows.append(Row(raw["anchor"], raw.get("height"), label_cells))
            rows.append(Row(None, raw.get("height"), value_cells))
            continue
        cells = []
        for c in raw["cells"]:
            a, b = span(c["at"])
            if b >= ncols:
                raise FormError(f"单元格 {c['at']} 超出表格列数")
            cells.append(Cell(a, b, rows=c.get("rows", 1), label=c.get("label"), value=c.get("value"),
                              field=c.get("field"), type=c.get("type", "text"), approved=c.get("approved"),
                              source=c.get("source", "roster" if c.get("approved") else "unit"),
                              required=c.get("required", False), prompt=c.get("prompt", ""),
                              style=c.get("style"), fmt=c.get("format"), title=c.get("title", ""),
                              formula=c.get("formula")))
        rows.append(Row(raw.get("anchor"), raw.get("height"), cells))
    # addressing: each row from the nearest anchor above; rows before the first anchor from it
    anchors = [i for i, r in enumerate(rows) if r.anchor]
    if not anchors:
        raise FormError("表式描述中没有任何锚点行")
    for i, row in enumerate(rows[:-1]):
        if row.table and not rows[i + 1].anchor:
            raise FormError(f"表格“{row.table}”后面的一行须有锚点（表格行数可变，只能靠标签找到它）")
    for i, row in enumerate(rows):
        above = [a for a in anchors if a <= i]
        base = above[-1] if above else anchors[0]
        row.anchor_of, row.offset = rows[base].anchor, i - base
    # human titles for fields: the label to their left in the same row, else the row anchor
    for row in rows:
        for cell in row.cells:
            if cell.field and not cell.title:
                left = [c for c in row.cells if c.label and c.last_col < cell.col]
                cell.title = (left[-1].label if left else (row.anchor_of or cell.field))
    return rows


def _compile_column(c: dict) -> GridColumn:
    a, b = span(c["at"])
    return GridColumn(key=c.get("key", ""), label=c["label"], col=a, last_col=b, list=c.get("list"),
                      strict=c.get("strict", c.get("list") in ("level1", "level2")), prompt=c.get("prompt", ""),
                      parts=[_compile_column(p) for p in c.get("parts", [])], source=c.get("source", "unit"),
                      validate=c.get("validate"), quant=c.get("quant"), qual=c.get("qual"),
                      joined=c.get("joined", True))


def _compile_grid(raw: dict) -> list[GridColumn]:
    return [_compile_column(c) for c in raw["columns"]]


def _compile_tables(raw: dict) -> dict[str, Grid]:
    return {key: Grid(key, t["anchor"], _compile_grid(t), t.get("blank_rows", 2),
                      {k: v for k, v in t.items() if k != "columns"}) for key, t in raw.items()}


_ID = ID_RE


def _check_id(kind: str, name) -> None:
    """A form or taxonomy id is a name, never a path."""
    if not isinstance(name, str) or not _ID.match(name):
        raise FormError(f"{kind}名称“{name}”不对：只能用小写字母、数字、-、_（如 hebei-project）")


def load_form(form_id: str) -> Form:
    _check_id("表式", form_id)
    return _load_form(form_id, template_dirs())


def form_exists(form_id: str) -> bool:
    return bool(_ID.match(str(form_id))) and _find("表式", form_id) is not None


def taxonomy_exists(tax_id: str) -> bool:
    return bool(_ID.match(str(tax_id))) and _find("指标体系", tax_id, "taxonomies") is not None


@lru_cache(maxsize=None)
def _load_form(form_id: str, dirs: tuple[Path, ...]) -> Form:
    path = _find("表式", form_id, "", dirs)
    if path is None:
        known = "、".join(sorted({p.stem for d in dirs for p in d.glob("*.toml")}))
        raise FormError(f"未知表式“{form_id}”。可用表式：{known}")
    return load_form_file(path)


def load_form_file(path: Path) -> Form:
    """A description file, checked against the language (forms.check) and compiled;
    any mistake is a FormError naming the file, line and key."""

    path = Path(path)
    sources: list[tuple[Path, str]] = []
    data = _load_toml(path, (), sources)
    problems = check(data, sources, form_exists, taxonomy_exists)
    if problems:
        raise FormError("\n".join(map(str, problems)))
    try:
        form = _compile(apply_roles(data), path)
    except FormError as exc:
        raise FormError(f"{path}：{exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        what = f"缺少键“{exc.args[0]}”" if isinstance(exc, KeyError) and exc.args else str(exc)
        raise FormError(f"{path}：表式描述有误（{what}）") from None
    load_taxonomy(form.taxonomy_id)
    return form


def apply_roles(data: dict) -> dict:
    """The description with each field and column that declares a role (formcheck.CELL_ROLES,
    COLUMN_ROLES) known by its role, and every reference to it — formulas ({名}, {grid_名}), required
    fields, sums, the reason field — following; the describer's names stay in the file only."""
    data = copy.deepcopy(data)
    sheet = data["sheet"]
    fields, columns = {}, {}   # the describer's name → the role
    for part in ("rows", "footer"):
        for row in sheet.get(part, []):
            for cell in row.get("cells", []):
                if cell.get("role") and cell.get("field") and cell["field"] != cell["role"]:
                    fields[cell["field"]] = cell["role"]
                    cell["field"] = cell["role"]

    def walk(cols, renames):
        for col in cols:
            walk(col.get("parts", []), renames)
            if col.get("role") and col.get("key") and col["key"] != col["role"]:
                renames[col["key"]] = col["role"]
                col["key"] = col["role"]
    walk(sheet["grid"]["columns"], columns)
    for table in sheet.get("tables", {}).values():
        walk(table["columns"], {})
    if not fields and not columns:
        return data

    def rename(m):
        name = m.group(1)
        if name.startswith("grid_") and name[5:] in columns:
            return "{grid_" + columns[name[5:]] + m.group(2) + "}"
        return "{" + fields.get(name, name) + m.group(2) + "}"
    for part in ("rows", "footer"):
        for row in sheet.get(part, []):
            for cell in row.get("cells", []):
                if cell.get("formula"):
                    cell["formula"] = re.sub(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)([^{}]*)\}(?!\})", rename, cell["formula"])
    review, scoring = data.get("review", {}), data.get("scoring", {})
    if "required_text" in review:
        review["required_text"] = [fields.get(f, f) for f in review["required_text"]]
    for rule in review.get("sums", []):
        rule["total"] = fields.get(rule["total"], rule["total"])
        rule["parts"] = [fields.get(f, f) for f in rule["parts"]]
    if "rate_reason_field" in scoring:
        scoring["rate_reason_field"] = fields.get(scoring["rate_reason_field"], scoring["rate_reason_field"])
    return data


# the 填报说明 sheet of a description that writes none (or leaves some of it out)
DEFAULT_GUIDE = {
    "name": "填报说明",
    "title": "{year}年度 填报说明",
    "lines": ["1. 本工作簿由主管部门统一生成，请勿增删工作表、修改工作表名称。",
              "2. 灰色底纹为已预填并锁定的内容；黄色底纹为需要填写的内容。",
              "3. 有下拉列表的单元格请从列表选择；金额填数字。",
              "4. 填报截止时间：{deadline}。填好后请直接将本文件发回，文件名可以修改。",
              "5. 联系人：{contact}。"],
}


def _compile(data: dict, path: Path) -> Form:
    meta = data["form"]
    ncols = len(meta["columns"])
    sheet = data["sheet"]
    tables = _compile_tables(sheet.get("tables", {}))
    return Form(id=meta["id"], name=meta["name"], kind=FormKind(meta["kind"]), version=str(meta["version"]),
                taxonomy_id=meta["taxonomy"], meta=meta, lists=data.get("lists", {}),
                guide={**DEFAULT_GUIDE, **data.get("guide", {})},
                unit_sheet=data.get("unit_sheet", {}), rows=_compile_rows(sheet["rows"], ncols, tables),
                grid_anchor=sheet["grid"]["anchor"], grid_blank_rows=sheet["grid"].get("blank_rows", 5),
                grid_columns=_compile_grid(sheet["grid"]), review=data.get("review", {}), path=path,
                grid={k: v for k, v in sheet["grid"].items() if k != "columns"},
                footer=_compile_rows(sheet["footer"], ncols) if sheet.get("footer") else [],
                scoring=data.get("scoring", {}), tables=tables)


def form_files() -> list[Path]:
    """Every description file on the search path (a user's file hides a packaged one of the same id)."""
    out, seen = [], set()
    for d in template_dirs():
        for p in sorted(d.glob("*.toml")):
            if p.stem not in seen:
                seen.add(p.stem)
                out.append(p)
    return out


def list_forms() -> list[Form]:
    """The forms that load; broken descriptions are left out (see broken_forms)."""
    out = []
    for p in form_files():
        try:
            out.append(load_form(p.stem))
        except FormError:
            pass
    return out


def broken_forms() -> list[tuple[Path, str]]:
    """(file, what is wrong) of every description on the search path that does not load."""
    out = []
    for p in form_files():
        try:
            load_form(p.stem)
        except FormError as exc:
            out.append((p, str(exc)))
    return out
