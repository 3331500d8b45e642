"""The form language as a JSON Schema (for editors that check a TOML file while it is written — Taplo /
Even Better TOML read `#:schema ./form.schema.json` at a file's top) and as the manual's key reference.

Both are made from forms.check.SCHEMA, the one statement of the language that the checker enforces; a
description that `extends` another needs only what it changes, so its required keys are not asked."""
from __future__ import annotations

from .check import AT, CELL_ROLES, COLUMN, COLUMN_ROLES, SCHEMA

SCALARS = {"str": {"type": "string"}, "int": {"type": "integer"}, "num": {"type": "number"},
           "bool": {"type": "boolean"}, "any": {}}
NAMES = {"str": "文字", "int": "整数", "num": "数字", "bool": "true/false", "any": "任意"}
ROLE_TEXT = {**CELL_ROLES, **COLUMN_ROLES}
# a merge directive of `extends`, allowed in any table: these sub-tables replace the parent's, not merge
REPLACE = {"type": "array", "items": {"type": "string"}, "description": "这些子表整个替换继承来的，而不是合并"}


def _schema(spec, strict: bool) -> dict:
    if spec is COLUMN:
        return {"$ref": f"#/$defs/column{'' if strict else '_extending'}"}
    if spec == AT:
        return {"type": "string", "pattern": "^[A-Z]{1,2}(:[A-Z]{1,2})?$", "description": "列，如 \"B\" 或 \"D:H\""}
    if isinstance(spec, str):
        return dict(SCALARS[spec])
    kind = spec[0]
    if kind == "enum":
        out = {"enum": list(spec[1])}
        if all(v in ROLE_TEXT for v in spec[1]):
            out["markdownEnumDescriptions"] = [ROLE_TEXT[v] for v in spec[1]]
        return out
    if kind == "list":
        return {"type": "array", "items": _schema(spec[1], strict)}
    if kind == "table":
        return _table(spec, strict)
    return {"anyOf": [_schema(s, strict) for s in spec]}   # one of several scalar types


def json_schema() -> dict:
    """The JSON Schema of a form description file."""
    def top(strict: bool) -> dict:
        out = _schema(SCHEMA, strict)
        out["properties"]["extends"] = {"type": "string", "description": "继承的表式（只写不同之处）"}
        return out
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "perftables 表式描述",
        "description": "一张官方表格的描述：生成、收集、审核、汇总、公开都读它。",
        "if": {"required": ["extends"]},
        "then": {"$ref": "#/$defs/extending"},
        "else": {"$ref": "#/$defs/whole"},
        "$defs": {"whole": top(True), "extending": top(False), "column": _table(COLUMN, True),
                  "column_extending": _table(COLUMN, False)},
    }


def _table(spec, strict: bool) -> dict:
    """A table spec as an object schema (also the recursive column's own definition)."""
    _, fields, required, free = spec
    out = {"type": "object", "properties": {**{k: _schema(v, strict) for k, v in fields.items()}, "replace": REPLACE},
           "additionalProperties": _schema(free, strict) if free is not None else False}
    if strict and required:
        out["required"] = sorted(required)
    return out


def _rows(spec, path: str, out: list, seen: set) -> None:
    """(key path, what it takes, required) of every key under spec, depth first."""
    if isinstance(spec, tuple) and spec[0] == "list":
        _rows(spec[1], path + "[]", out, seen)
        return
    if not (isinstance(spec, tuple) and spec[0] == "table"):
        return
    if id(spec) in seen:
        return
    seen = seen | {id(spec)}
    _, fields, required, free = spec
    for key, sub in fields.items():
        out.append((f"{path}.{key}" if path else key, _describe(sub), key in required))
        _rows(sub, f"{path}.{key}" if path else key, out, seen)
    if free is not None:
        out.append((f"{path}.<名称>", _describe(free), False))


def _describe(spec) -> str:
    if spec == AT:
        return "列（\"B\" 或 \"D:H\"）"
    if isinstance(spec, str):
        return NAMES[spec]
    kind = spec[0]
    if kind == "enum":
        return "之一：" + "、".join(f"`{v}`" for v in spec[1])
    if kind == "list":
        return f"列表（{_describe(spec[1])}）"
    if kind == "table":
        return "表"
    return " 或 ".join(_describe(s) for s in spec)


def keys_markdown() -> str:
    """The manual's page of every key (docs/forms-keys.md is this text; a test checks)."""
    rows: list = []
    _rows(SCHEMA, "", rows, set())
    lines = ["# 表式描述的全部键", "",
             "由检查器使用的同一份定义生成（`perftables.forms.check.SCHEMA`），与检查器说的一字不差。"
             "“必填”指不继承其他表式（没有 `extends`）时必须写；写了 `extends` 的只写不同之处，"
             "任何一个表里可以写 `replace = [\"键\", …]`：这些子表整个替换继承来的，而不是逐键合并。"
             "编辑器检查：`perftables forms --schema > form.schema.json`，在描述文件第一行写 "
             "`#:schema ./form.schema.json`（Taplo / Even Better TOML 识别）。", "",
             "| 键 | 取值 | 必填 |", "|---|---|---|"]
    lines += [f"| `{key}` | {what} | {'是' if req else ''} |" for key, what, req in rows]
    return "\n".join(lines) + "\n"
