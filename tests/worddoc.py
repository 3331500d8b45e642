"""Word documents as units make them, for tests: paragraphs and tables written as Word writes them
(w:tbl rows of w:tc with gridSpan across columns and vMerge down rows), and the seeds' tables printed
the way their documents print them (examples/seed_tables.json: seeds 000–003)."""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
MERGED = object()   # a cell that continues the one above (vertical merge)


def _runs(text: str) -> str:
    paras = []
    for line in str(text).split("\n"):
        paras.append(f'<w:p><w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>')
    return "".join(paras) or "<w:p/>"


def _table(rows: list[list], grid: int) -> str:
    out = ['<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>'
           + "".join('<w:gridCol w:w="1200"/>' for _ in range(grid)) + "</w:tblGrid>"]
    for r, row in enumerate(rows):
        spans = [1] * len(row)
        spans[-1] += grid - len(row)          # the last cell takes the rest of the width
        cells = []
        for c, (value, span) in enumerate(zip(row, spans)):
            pr = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            below = r + 1 < len(rows) and c < len(rows[r + 1]) and rows[r + 1][c] is MERGED
            if value is MERGED:
                pr += '<w:vMerge/>'
                value = ""
            elif below:
                pr += '<w:vMerge w:val="restart"/>'
            cells.append(f"<w:tc><w:tcPr>{pr}</w:tcPr>{_runs(value)}</w:tc>")
        out.append("<w:tr>" + "".join(cells) + "</w:tr>")
    return "".join(out) + "</w:tbl>"


def docx(blocks: list) -> bytes:
    """blocks: a str (a paragraph; "" an empty one), a list of rows (a table) or ("xml", body XML), in
    document order."""
    body = []
    for block in blocks:
        if isinstance(block, tuple):   # ("xml", body XML as it stands)
            body.append(block[1])
        elif isinstance(block, str):
            body.append(_runs(block) if block else "<w:p/>")
        else:
            body.append(_table(block, max(len(r) for r in block)) + "<w:p/>")
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {NS}><w:body>'
           + "".join(body) + '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                   'xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                   '</Relationships>')
        z.writestr("word/document.xml", xml)
    return out.getvalue()


def merged_down(rows: list[list], col: int = 0) -> list[list]:
    """A column's repeats printed as one cell merged down (一级指标 over its rows)."""
    out, above = [], None
    for row in rows:
        row = list(row)
        if row[col] == above and above:
            row[col] = MERGED
        else:
            above = row[col]
        out.append(row)
    return out


HEADER = ["一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据"]


def project_rows(p: dict, tangshan: bool) -> list[list]:
    """One project's table as its seed document prints it."""
    if tangshan:
        head = [["项目编码", p["code"], "项目名称", p["name"]],
                ["项目资金主要用途", p["use"]],
                ["资金支出计划(累计进度%)", "第一季度", "第二季度", "第三季度", "第四季度"],
                [MERGED, *p["plan"]]]
    else:
        head = [["项目编码", p["code"], "项目名称", p["name"]],
                ["预算规模及资金用途", "预算数", p["budget"], "其中：财政资金", p["fiscal"], "其他资金", p["other"]],
                [MERGED, p["use"]],
                ["资金支出计划（%）", "3月底", "6月底", "10月底", "12月底"],
                [MERGED, *p["plan"]]]
    return head + [["绩效目标", p["goal"]], HEADER] + merged_down(p["indicators"])


def seed_document(unit: dict, split_at: int | None = None) -> list:
    """A unit's 部门预算绩效文本 as blocks: 第一部分 (its three texts under their headings), 第二部分 (a
    table a project, each under its title and unit line). split_at: the first project's table is split
    there, the header row repeated on the next page, as Word does with a long table."""
    tangshan = "budget" not in unit["projects"][0]
    blocks = [f"{unit['name']}", "2025年部门预算绩效文本", "", "第一部分 部门整体绩效目标"]
    for n, (key, head) in enumerate((("overall_goal", "一、总体绩效目标"), ("item_goals", "二、分项绩效目标"),
                                     ("measures", "三、工作保障措施"))):
        blocks.append(head)
        blocks += [line for line in unit["texts"][key].split("\n")]
        blocks.append("")
    blocks += ["第二部分", "预算项目绩效目标"]
    for seq, p in enumerate(unit["projects"], 1):
        blocks.append(f"{seq}.{p['name']}绩效目标表")
        if not tangshan:
            blocks.append([[f"{unit['code']}{unit['name']}", "单位：万元"]])
        rows = project_rows(p, tangshan)
        if seq == 1 and split_at:
            cut = rows.index(HEADER) + split_at
            rest = [list(r) for r in rows[cut:]]
            if rest and rest[0][0] is MERGED:   # a merge cut by the page: empty on the new page
                rest[0][0] = ""
            blocks += [rows[:cut], "", [HEADER] + rest]
        else:
            blocks.append(rows)
        blocks.append("")
    return blocks
