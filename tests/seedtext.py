"""Read the project tables out of a seed document's text (cells are lines starting with a tab)."""


def rows(text: str) -> list[list[str]]:
    out, cur = [], []
    for line in text.split("\n"):
        if line.strip() == "" and not line.startswith("\t"):
            if cur:
                out.append(cur)
                cur = []
        elif line.startswith("\t"):
            cur.append(line[1:].rstrip("\t").strip(" "))
        elif cur:
            cur[-1] += "\n" + line.rstrip("\t").strip(" ")
        else:
            cur = [None, line]   # a heading line: not a cell
    if cur:
        out.append(cur)
    return [[c for c in r if c is not None][1:] if r and r[0] is None else r for r in out]


def project_tables(text: str) -> list[list[list[str]]]:
    """Each project's table: from its 项目编码 row to its last indicator row."""
    tables, cur, width = [], None, None
    for row in rows(text):
        if row and row[0] == "项目编码":
            cur, width = [], None
            tables.append(cur)
        if cur is None or not row:
            continue
        if width is not None and len(row) != width:   # past the indicator grid
            cur = None
            continue
        if row[0] == "一级指标":
            width = len(row)
        cur.append([c.strip() for c in row])
    return tables
