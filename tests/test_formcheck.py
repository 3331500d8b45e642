"""Form descriptions are checked when they load: every mistake a describer makes is a Chinese message
naming the file, the line and the key — never a description that silently loses a clerk's entries.
User form folders are searched before the packaged forms."""
import re
import shutil
from pathlib import Path

import pytest

from conftest import run as conftest_run, EXAMPLES
from perftables.forms.form import FormError, load_form_file
from perftables.core.resources import TEMPLATES_DIR

PROJECT = (TEMPLATES_DIR / "hebei-project.toml").read_text(encoding="utf-8")
SELFEVAL = (TEMPLATES_DIR / "hebei-selfeval.toml").read_text(encoding="utf-8")


def run(*args, **env):
    return conftest_run(*args, env=env or None)


def described(tmp_path, text: str, form_id: str = "mine") -> Path:
    path = tmp_path / f"{form_id}.toml"
    text = re.sub(r'^id = "[^"]+"', f'id = "{form_id}"', text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle, nth: int = 1) -> int:
    """The line of the nth occurrence of needle."""
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    return lines[nth - 1]


# (what the describer wrote, the words of the message, the text on the line it must name)
MISTAKES = [
    ("field typo", PROJECT.replace('{ at = "B:H", field = "goal"', '{ at = "B:H", feild = "goal"'),
     "不认识的键“feild”，是不是“field”", 'feild = "goal"'),
    ("anchor typo", PROJECT.replace('anchor = "绩效目标"\nheight', 'anchr = "绩效目标"\nheight'),
     "不认识的键“anchr”，是不是“anchor”", 'anchr = "绩效目标"'),
    ("duplicate anchor", PROJECT.replace('anchor = "绩效目标"\nheight', 'anchor = "项目编码"\nheight'),
     "锚点“项目编码”", ('anchor = "项目编码"', 2)),
    ("end_anchor typo", SELFEVAL.replace('end_anchor = "总分"', 'end_anchor = "总份"'),
     "结束锚点“总份”", 'end_anchor = "总份"'),
    ("unknown list", PROJECT.replace('list = "basis"\nprompt', 'list = "basiss"\nprompt'),
     "没有列表“basiss”", 'list = "basiss"'),
    ("column beyond the form", PROJECT.replace('at = "H"\nkey = "basis"', 'at = "K"\nkey = "basis"'),
     "超出表格的 8 列", 'at = "K"'),
    ("missing grid anchor", PROJECT.replace('[sheet.grid]\nanchor = "一级指标"\n', '[sheet.grid]\n'),
     "缺少必需的键“anchor”", "[sheet.grid]"),
    ("missing kind", PROJECT.replace('kind = "project_target"\n', ''), "缺少必需的键“kind”", "[form]"),
    ("unknown kind", PROJECT.replace('kind = "project_target"', 'kind = "project_targets"'),
     "是不是“project_target”", 'kind = "project_targets"'),
    ("unknown unit_line name", PROJECT.replace('unit_line = "填报单位：{unit_name}"', 'unit_line = "填报单位：{unit}"'),
     "不认识的名称 {unit}", 'unit_line = "填报单位：{unit}"'),
    ("unknown value name", PROJECT.replace('{seq}.{project_name}绩效目标表', '{seq}.{project}绩效目标表'),
     "不认识的名称 {project}", "{project}绩效目标表"),
    ("unknown formula name", SELFEVAL.replace("{budget_weight}+SUM({grid_weight})", "{budget_wieght}+SUM({grid_weight})"),
     "{budget_wieght}", "budget_wieght"),
    ("unknown taxonomy", PROJECT.replace('taxonomy = "classic"', 'taxonomy = "clasic"'), "没有指标体系“clasic”",
     'taxonomy = "clasic"'),
    ("wrong type", PROJECT.replace("blank_rows = 6", 'blank_rows = "六"'), "应为整数", 'blank_rows = "六"'),
    ("duplicate field", PROJECT.replace('field = "goal", type = "longtext"', 'field = "use", type = "longtext"'),
     "字段“use”重复", ('field = "use"', 2)),
    ("a cell that is nothing", PROJECT.replace('{ at = "F:H", label = "单位：万元", style = "plain_right" }',
                                               '{ at = "F:H", style = "plain_right" }'),
     "须有 label", 'at = "F:H", style'),
    ("toml syntax", PROJECT.replace('name = "项目支出绩效目标表（河北绩效文本式）"', 'name = "项目支出绩效目标表'),
     "TOML 语法错误", 'name = "项目支出绩效目标表'),
    ("unknown missing block", SELFEVAL.replace("[scoring]\n", "[scoring]\nmissing_blocks = { costs = 5 }\n"),
     "“costs”不在 block_weights 中", "missing_blocks = { costs = 5 }"),
    ("missing block not in the total", SELFEVAL.replace("[scoring]\n", "[scoring]\nmissing_blocks = { output = 5 }\n"),
     "没有加上 {missing_points}", "missing_blocks = { output = 5 }"),
    ("list name not a name", PROJECT.replace("basis = [", '"依据" = [', 1), "列表名只能用", '"依据" = ['),
    # what the runtime would ignore is refused (issue 27, item 6)
    ("a roster field the roster does not give",
     PROJECT.replace('{ at = "B:H", field = "goal", type = "longtext"', '{ at = "B:H", field = "goal", source = "roster", type = "longtext"'),
     "名单里没有它", 'field = "goal", source = "roster"'),
    ("a self-evaluation role on a target form",
     PROJECT.replace('{ at = "B:H", field = "goal", type = "longtext"', '{ at = "B:H", field = "shishi", role = "implementer", type = "longtext"'),
     "只用于自评表", 'role = "implementer"'),
    ("a department role on a project form",
     PROJECT.replace('{ at = "B:H", field = "goal", type = "longtext"', '{ at = "B:H", field = "ndmb", role = "annual_goals", type = "longtext"'),
     "只用于部门整体表", 'role = "annual_goals"'),
    ("a number format on a text", PROJECT.replace('{ at = "B:H", field = "goal", type = "longtext"', '{ at = "B:H", field = "goal", format = "0.00", type = "longtext"'),
     "format（数字格式）只用于金额", 'format = "0.00"'),
    ("two columns with one header", PROJECT.replace('label = "三级指标"', 'label = "二级指标"'), "表头“二级指标”出现了两次",
     ('label = "二级指标"', 2)),
]


@pytest.mark.parametrize("name, text, words, line_text", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_is_a_message_with_file_line_and_key(tmp_path, name, text, words, line_text):
    assert text not in (PROJECT, SELFEVAL), "the mistake was not made"
    path = described(tmp_path, text)
    with pytest.raises(FormError) as err:
        load_form_file(path)
    message = str(err.value)
    assert words in message and str(path) in message, message
    expected = line_of(path, *line_text) if isinstance(line_text, tuple) else line_of(path, line_text)
    assert f"第{expected}行" in message, (expected, message)
    r = run("forms", "--check", path)
    assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output


def test_an_amounts_own_number_format_is_used(tmp_path, small_unit):
    """format on an amount was accepted and ignored: the template now shows the amount in it."""
    import openpyxl
    text = PROJECT.replace('field = "budget", source = "roster", type = "amount"',
                           'field = "budget", source = "roster", type = "amount", format = "#,##0.00"')
    path = described(tmp_path, text, "money-format")
    from perftables.cycle.generate import Options, workbook_bytes
    data = workbook_bytes(load_form_file(path), small_unit, Options(year=2025))
    (tmp_path / "t.xlsx").write_bytes(data)
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["项目1"]
    formats = {c.number_format for row in ws.iter_rows() for c in row if c.value == 12}
    assert formats == {"#,##0.00"}, formats


def test_the_packaged_forms_pass_the_check():
    paths = sorted(TEMPLATES_DIR.glob("*.toml"))
    r = run("forms", "--check", *[a for p in paths for a in ("--check", p)][1:])
    assert r.exit_code == 0 and r.output.count("通过：") == len(paths), r.output


def test_a_broken_file_is_named_and_the_good_forms_still_listed(tmp_path):
    described(tmp_path, PROJECT.replace('field = "goal"', 'feild = "goal"'), "broken")
    described(tmp_path, PROJECT, "mine")
    r = run("forms", "--templates", tmp_path)
    assert r.exit_code == 0 and "Traceback" not in r.output
    listed = [line.split()[0] for line in r.output.splitlines() if line and line[0].isalnum()]
    assert "mine" in listed and "hebei-project" in listed and "broken" not in listed
    assert "有 1 个表式描述有错误" in r.output and "broken.toml" in r.output and "feild" in r.output


def test_a_broken_form_used_by_generate_is_a_message(tmp_path):
    described(tmp_path / "f" if (tmp_path / "f").mkdir() is None else tmp_path, PROJECT.replace(
        'field = "goal"', 'feild = "goal"'), "broken")
    r = run("generate", EXAMPLES / "dept" / "名单.csv", "-o", tmp_path / "o", "--year", 2025, "--form", "broken",
            "--templates", tmp_path / "f")
    assert r.exit_code == 2 and "feild" in r.output and not (tmp_path / "o").exists(), r.output


def test_a_users_form_folder_is_searched_first_through_the_whole_cycle(tmp_path):
    """A coordinator's own variant: generate, fill, collect with --templates (and PERFTABLES_TEMPLATES)."""
    folder = tmp_path / "我的表式"
    folder.mkdir()
    (folder / "taxonomies").mkdir()
    shutil.copy(TEMPLATES_DIR / "taxonomies" / "classic.toml", folder / "taxonomies" / "county.toml")
    tax = (folder / "taxonomies" / "county.toml").read_text(encoding="utf-8").replace('id = "classic"', 'id = "county"')
    (folder / "taxonomies" / "county.toml").write_text(tax, encoding="utf-8")
    text = PROJECT.replace('name = "项目支出绩效目标表（河北绩效文本式）"', 'name = "项目支出绩效目标表（本县式）"') \
        .replace('taxonomy = "classic"', 'taxonomy = "county"').replace('label = "指标值确定依据"', 'label = "目标值依据"')
    described(folder, text, "county-project")
    roster = tmp_path / "名单.csv"
    roster.write_text((EXAMPLES / "roster.csv").read_text(encoding="utf-8-sig")
                      .replace("hebei-project", "county-project").replace("tangshan-project", "county-project"),
                      encoding="utf-8")
    r = run("generate", roster, "-o", tmp_path / "下发", "--year", 2025, "--templates", folder)
    assert r.exit_code == 0, r.output
    made = sorted((tmp_path / "下发").glob("*.xlsx"))
    from perftables.io.book import read_book
    rows = read_book(made[0].read_bytes()).sheets["项目1"]
    assert any("目标值依据" in [str(v) for v in row] for row in rows)
    # without the folder the form is unknown: the files are not taken, with the reason
    r = run("collect", tmp_path / "下发", "-o", tmp_path / "s1.xlsx")
    assert r.exit_code == 0 and "未知表式“county-project”" in r.output
    r = run("collect", tmp_path / "下发", "-o", tmp_path / "s2.xlsx", PERFTABLES_TEMPLATES=str(folder))
    assert r.exit_code == 0 and "未填写 5" in r.output, r.output
    r = run("forms", "--templates", folder)
    assert "county-project" in r.output and "指标体系 county" in r.output


def test_a_form_id_is_never_a_path(tmp_path):
    r = run("generate", EXAMPLES / "roster.csv", "-o", tmp_path / "o", "--year", 2025, "--form", "../../pyproject")
    assert r.exit_code == 2 and "只能用小写字母" in r.output


def test_the_manuals_example_description_loads(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "docs" / "forms.md").read_text(encoding="utf-8")
    block = readme.split("例：某县", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "county-project.toml"
    path.write_text(block, encoding="utf-8")
    form = load_form_file(path)
    assert form.id == "county-project" and "县委县政府决定" in form.lists["basis"]
    r = run("generate", EXAMPLES / "dept" / "名单.csv", "-o", tmp_path / "o", "--year", 2025, "--form",
            "county-project", "--templates", tmp_path)
    assert r.exit_code == 0, r.output


def pinyin_form(tmp_path) -> Path:
    """hebei-project as a describer who names every field in pinyin writes it: each says its role."""
    text = PROJECT
    for old, new in (('field = "project_code"', 'field = "xmbm", role = "project_code"'),
                     ('field = "project_name"', 'field = "xmmc", role = "project_name"'),
                     ('field = "budget"', 'field = "ysz", role = "budget"'),
                     ('field = "fiscal"', 'field = "czzj", role = "fiscal"'),
                     ('field = "other"', 'field = "qtzj", role = "other"'),
                     ('field = "use"', 'field = "zjyt", role = "use"'),
                     ('field = "goal"', 'field = "jxmb", role = "goal"'),
                     ('key = "op"', 'key = "fh", role = "op"'), ('key = "num"', 'key = "sz", role = "num"'),
                     ('key = "unit"', 'key = "dw", role = "unit"'),
                     ('key = "basis"', 'key = "yj"\nrole = "basis"'),
                     ('sums = [{ total = "budget", parts = ["fiscal", "other"] }]',
                      'sums = [{ total = "ysz", parts = ["czzj", "qtzj"] }]'),
                     ('required_text = ["project_code", "project_name", "goal"]',
                      'required_text = ["xmbm", "xmmc", "jxmb"]')):
        assert old in text, old
        text = text.replace(old, new)
    return described(tmp_path, text, "pinyin")


def test_fields_named_freely_say_their_role(tmp_path, small_unit):
    """Names are the describer's; the role says what perftables does with a field. The pinyin-named form
    behaves exactly as the packaged one: the same locked cells, the same values read back, the same review."""
    from perftables.cycle.collect import collect
    from perftables.forms.form import load_form, with_templates
    from perftables.cycle.generate import Options, workbook_bytes
    path = pinyin_form(tmp_path)
    fill = {"projects": {"项目1": {"fields": {"goal": "1.开展科普活动", "plan1": 25, "plan2": 50, "plan3": 75,
                                             "plan4": 100},
                                  "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "活动次数",
                                                  "op": "≥", "num": "4", "unit": "次"}]}}}
    got = {}
    for form_id, folder in (("pinyin", path.parent), ("hebei-project", None)):
        with with_templates([folder] if folder else []):
            data = workbook_bytes(load_form(form_id), small_unit, Options(year=2025), fill)
            (tmp_path / f"{form_id}.xlsx").write_bytes(data)
            ret = collect([tmp_path / f"{form_id}.xlsx"]).returns[0]
        p = ret.projects[0]
        got[form_id] = ((p.code, p.name, p.budget, p.fiscal, p.other, p.use, p.goal),
                        [(i.name, i.value.render(), i.basis) for i in p.indicators],
                        sorted((f.sheet, f.cell, f.rule, f.message) for f in ret.findings))
    assert got["pinyin"] == got["hebei-project"]
    assert got["pinyin"][0][:3] == ("999001P001", "科普活动经费", 12)


def test_a_role_held_twice_is_a_mistake(tmp_path):
    text = PROJECT.replace('field = "other"', 'field = "qtzj", role = "budget"')
    path = described(tmp_path, text)
    with pytest.raises(FormError) as exc:
        load_form_file(path)
    assert "角色“budget”" in str(exc.value) and "只能有一个字段" in str(exc.value)
    line = line_of(path, 'role = "budget"')
    assert f"第{line}行" in str(exc.value)
    text = PROJECT.replace('key = "basis"', 'key = "yj"\nrole = "bases"')
    with pytest.raises(FormError, match="是不是“basis”"):
        load_form_file(described(tmp_path, text))


def test_the_manual_names_every_role():
    from perftables.forms.check import CELL_ROLES, COLUMN_ROLES
    readme = (Path(__file__).parent.parent / "docs" / "forms.md").read_text(encoding="utf-8")
    for role, meaning in {**CELL_ROLES, **COLUMN_ROLES}.items():
        assert f"| `{role}` | {meaning} |" in readme, role


def test_a_user_taxonomy_extends_a_packaged_one(tmp_path):
    """A user folder's taxonomies/ may extend the packaged classic — by another name, or under its own name
    (overriding it); a loop is still a message."""
    from perftables.forms.form import load_taxonomy, with_templates
    tax = tmp_path / "taxonomies"
    tax.mkdir()
    (tax / "county.toml").write_text('extends = "classic"\nid = "county"\nname = "县里的指标体系"\n', encoding="utf-8")
    (tax / "classic.toml").write_text('extends = "classic"\nid = "classic"\nname = "改过名的经典体系"\n',
                                      encoding="utf-8")
    with with_templates([tmp_path]):
        county, classic = load_taxonomy("county"), load_taxonomy("classic")
    assert county.name == "县里的指标体系" and [l1.name for l1 in county.level1][:3] == ["产出指标", "效益指标", "满意度指标"]
    assert classic.name == "改过名的经典体系" and classic.level1
    (tax / "a.toml").write_text('extends = "b"\nid = "a"\n', encoding="utf-8")
    (tax / "b.toml").write_text('extends = "a"\nid = "b"\n', encoding="utf-8")
    with with_templates([tmp_path]), pytest.raises(FormError, match="循环继承"):
        load_taxonomy("a")
    (tax / "c.toml").write_text('extends = "nothing-here"\nid = "c"\n', encoding="utf-8")
    with with_templates([tmp_path]), pytest.raises(FormError, match="继承的指标体系“nothing-here”找不到"):
        load_taxonomy("c")


def test_the_json_schema_accepts_every_shipped_form_and_refuses_what_the_checker_refuses(tmp_path):
    """perftables forms --schema: the same language as the checker, for an editor to check while typing."""
    import json
    import tomllib

    jsonschema = pytest.importorskip("jsonschema")
    r = run("forms", "--schema")
    assert r.exit_code == 0
    schema = json.loads(r.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    root = Path(__file__).resolve().parent.parent
    shipped = sorted((root / "templates").glob("*.toml")) + sorted((root / "tests" / "forms").glob("*.toml"))
    for path in shipped:
        assert not list(validator.iter_errors(tomllib.loads(path.read_text(encoding="utf-8")))), path.name
    shape = {"field typo", "anchor typo", "missing kind", "unknown kind", "wrong type"}
    for name, text, *_ in MISTAKES:   # the checker's mistakes of shape are the schema's too
        if name in shape:
            assert list(validator.iter_errors(tomllib.loads(text))), name
            shape.discard(name)
    assert not shape
    child = {"extends": "hebei-project", "form": {"id": "mine", "name": "我的", "version": "1.0"}}
    assert not list(validator.iter_errors(child))          # an extending form writes only what it changes
    assert list(validator.iter_errors({"form": {"id": "mine"}}))   # a whole one must say it all


def test_the_checkers_roster_fields_are_the_rosters():
    """forms.check cannot import the roster (a layer above it): the list it checks against is the roster's."""
    from perftables.forms.check import ROSTER_PROJECT_FIELDS
    from perftables.forms.form import record_key
    from perftables.model.roster import COLUMNS, Project
    given = {record_key(k) for k in COLUMNS} & (set(Project.__dataclass_fields__) | {"category", "total_budget"})
    assert {record_key(k) for k in ROSTER_PROJECT_FIELDS} == given
