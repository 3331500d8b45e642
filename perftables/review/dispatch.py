"""review: every return reviewed by the rules of its form's kind — the project target rules (checks), the
department table's (dept), a self-evaluation's scoring (selfeval). A kind plugs in here, in KIND_REVIEWS;
the rules themselves never import the dispatcher."""
from __future__ import annotations

from ..core.kinds import FormKind
from .checks import _required, _review_indicators, review_project
from .dept import review_dept
from ..core.text import has_bidi, has_hidden, shown_name
from ..io.extract import ERROR, WARNING, Finding, UnitReturn, input_cells
from .selfeval import review_selfeval


def _project(ret: UnitReturn) -> list[Finding]:
    """A project target table: its rules, and the indicator rules over every inline table of indicators
    it has beside the main grid (a 长期绩效指标)."""
    out, form, year = [], ret.form, ret.stamp.year
    for pr in ret.projects:
        out += review_project(form, pr, year)
        for key, grid in form.tables.items():
            if grid.spec.get("kind") == "indicators" and pr.tables.get(key):
                out += _review_indicators(form, pr, pr.tables[key], lambda i, k, key=key: ("table", key, i, k),
                                          f"项目“{pr.name}”的{grid.anchor}", year=year)
    return out


KIND_REVIEWS = {FormKind.PROJECT_TARGET: _project, FormKind.DEPT_TARGET: review_dept,
                FormKind.PROJECT_SELFEVAL: review_selfeval, FormKind.DEPT_SELFEVAL: review_selfeval}


def review(ret: UnitReturn) -> list[Finding]:
    """The unit page's texts, the required fields of every project, then the kind's own rules."""
    out: list[Finding] = []
    form = ret.form
    for spec in form.unit_sheet.get("rows", []):
        if not ret.texts.get(spec["field"]):
            out.append(Finding(form.unit_sheet["name"], "B" + str(form.unit_sheet["rows"].index(spec) + 3),
                               "必填项为空", ERROR, f"“{spec['anchor']}”未填写", target=("text", spec["field"])))
    out += [f for pr in ret.projects for f in _required(form, pr)]
    return out + KIND_REVIEWS[form.kind](ret) + hidden_characters(ret)


def hidden_characters(ret: UnitReturn) -> list[Finding]:
    """Text that prints other than it is: a direction override (“2\u202e01” prints as “102”) is an error, a
    zero-width character (two names that look one) a warning; both name the cell."""
    if ret.plain:   # not one in the whole book
        return []
    out = []
    for sheet, ref, what, text, target in input_cells(ret):
        if has_hidden(text):
            bidi = has_bidi(text)
            kind = "改变文字方向的字符" if bidi else "零宽字符"
            out.append(Finding(sheet, ref, "看不见的字符", ERROR if bidi else WARNING,
                               f"“{what}”中有{kind}：“{shown_name(text)[:60]}”", target=target))
    return out
