"""Self-evaluation workbooks (绩效自评): each accepted 绩效目标表 return becomes a 项目支出绩效自评表 workbook
whose identity, 预期目标 and indicators (with 年度指标值 exactly as approved) are locked; an execution roster
pre-fills 全年预算数 / 全年执行数."""
from __future__ import annotations

from pathlib import Path

from ..forms.form import Form, FormError, load_form
from ..core.value import convert_money, parse_amount
from ..io.extract import UnitReturn, _text
from ..io.stamp import fingerprint
from ..model.roster import COLUMNS, ROSTER_MONEY, Project, RosterError, Unit, money_header, read_rows
from ..review.selfeval import approved_rows
from .generate import Options, file_name_for, workbook_bytes
from ..core.files import write_bytes
from ..cycle.generate import refuse_existing


DEFAULT_FORM = "hebei-selfeval"


def execution_columns(form: Form) -> dict[str, str]:
    """Headers an execution roster may use: every amount field's title in the form description
    (e.g. 当年财政拨款全年执行数), the totals also without their row name (全年执行数)."""
    cols = {"项目编码": "code", "单位编码": "code", "主管部门": "department", "实施单位": "implementer"}
    for key, (_, cell) in form.fields().items():
        if cell.type == "amount":
            cols[cell.title] = key
            if key.endswith("_total"):
                cols[cell.title.replace("年度资金总额", "")] = key
    return cols


def read_execution(path, form_id: str = DEFAULT_FORM) -> dict[str, dict]:
    """Optional execution roster (CSV): 项目编码 → amounts (全年预算数, 全年执行数, their parts), 主管部门, 实施单位.
    Amounts are in the form's money unit unless the column says its own (“全年执行数（万元）”); kept in the
    roster's 万元, as every roster amount is."""
    form = load_form(form_id)
    columns = execution_columns(form)
    table = read_rows(path)
    header = [money_header(_text(h)) for h in table[0]] if table else []
    names = {a.lower() for k in ("unit_name", "project_name") for a in COLUMNS[k]}   # for people, not read
    unknown = [name for name, _ in header if name and name not in columns and name.lower() not in names]
    if unknown:   # a column named otherwise than the form's words would be read as nothing
        raise RosterError([f"{Path(path).name}：不认识的列 " + "、".join(f"“{h}”" for h in unknown) +
                           "（可用的列：" + "、".join(columns) + "）"])
    out, problems = {}, []
    for rowno, values in enumerate(table[1:], start=2):
        row = {name: (unit or form.money, _text(v)) for (name, unit), v in zip(header, values)}
        item = {columns[k]: (k, *v) for k, v in row.items() if k in columns}
        for key in list(item):
            name, unit, text = item[key]
            amount = parse_amount(text, unit) if key not in ("code", "department", "implementer") and text else None
            if amount is not None and amount.error:
                problems.append(f"{Path(path).name} 第{rowno}行“{name}”：{amount.error}")
            item[key] = text if amount is None else convert_money(amount.value, unit, ROSTER_MONEY)
        code = item.pop("code", "")
        if code:
            out[code] = {k: v for k, v in item.items() if v not in ("", None)}
    if problems:
        raise RosterError(problems)
    return out


def approved_values(target: UnitReturn, pr, form: Form, money: str) -> dict:
    """What the self-evaluation form takes from the approved table (its cells' `approved`): the value of that
    field or role of the approved project or department, amounts in the roster's 万元. A field the approved
    table does not have is the form's mistake, said before anything is written."""
    out = {}
    known = set(target.form.fields()) if target.form is not None else None
    for key, (_, cell) in form.fields().items():
        if not cell.approved:
            continue
        if known is not None and cell.approved not in known:
            raise FormError(f"自评表式 {form.id} 的字段“{key}”写了 approved = \"{cell.approved}\"，但批复的目标表"
                            f"（{target.form.id}）没有这个字段或角色（它有：{'、'.join(sorted(known))}）")
        value = pr.values.get(cell.approved)
        out[key] = convert_money(value, money, ROSTER_MONEY) if cell.type == "amount" else value
    return out


def unit_for_selfeval(target: UnitReturn, form: Form, execution: dict) -> Unit:
    """The unit as a roster would give it (amounts in the roster's 万元, from the target's own unit)."""
    projects = []
    money = target.form.money if target.form is not None else ROSTER_MONEY
    for pr in target.projects:
        if form.kind.is_department:
            extra = {**approved_values(target, pr, form, money), "indicators": approved_rows(target, pr, form)}
            extra.update(execution.get(target.unit_code, {}))
            projects.append(Project(code=target.unit_code, name=target.unit_name, extra=extra))
            continue
        budget, fiscal, other = (convert_money(v, money, ROSTER_MONEY) for v in (pr.budget, pr.fiscal, pr.other))
        extra = {"department": target.unit_name, "implementer": target.unit_name, "goal": pr.goal,
                 "start_total": budget, "start_fiscal": fiscal, "start_other": other,
                 **approved_values(target, pr, form, money), "indicators": approved_rows(target, pr, form)}
        extra.update(execution.get(pr.code, {}))
        projects.append(Project(code=pr.code, name=pr.name, budget=budget, fiscal=fiscal, other=other,
                                use=pr.use, extra=extra))
    return Unit(code=target.unit_code, name=target.unit_name, projects=projects)


def generate_selfeval(targets, outdir, opts: Options, form_id: str = DEFAULT_FORM, execution=None,
                      fills=None, overwrite: bool = False) -> list[tuple[Unit, Path]]:
    """targets: FileRecords of accepted target returns (collect() results).
    fills: what to pre-enter, by unit code (a dict) or made from the unit and form (a function) — examples, tests."""

    form = load_form(form_id)
    outdir = Path(outdir)
    units = [(rec, unit_for_selfeval(rec.result, form, execution or {})) for rec in targets]
    refuse_existing([outdir / file_name_for(form, unit, opts.year, outdir) for _, unit in units], overwrite)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for rec, unit in units:
        st = rec.stamp
        links = {"target_form": st.form,
                 "target_fingerprint": fingerprint(rec.payload) if "tool" in rec.payload else "",
                 "target_file_sha256": rec.sha256, "target_year": st.year}
        o = Options(**{**opts.__dict__, "links": links})
        fill = fills(unit, form) if callable(fills) else (fills or {}).get(unit.code)
        data = workbook_bytes(form, unit, o, fill)
        path = outdir / file_name_for(form, unit, opts.year, outdir)
        write_bytes(path, data)
        written.append((unit, path))
    return written
