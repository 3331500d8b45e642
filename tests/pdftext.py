"""What a rendered PDF shows, cell by cell: the text of each printed column, for tests that check nothing
was cut off. pdftotext -bbox-layout gives every word's box; a cell's wrapped lines start at the same left
edge, so the words are grouped into columns by where they start (words of one line further apart than a
gap start another column) and read top to bottom."""
from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

GAP = 6.0   # points between two words of one line that belong to different cells (or a word starts where
            # a cell's lines start on that page)


def column_texts(pdf: Path) -> str:
    """Every column's text, top to bottom and page by page, whitespace removed; columns separated by |.
    The lines' plain text follows, for centred cells whose lines start at different places."""
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    streams: dict[tuple, list] = {}
    plain = []
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>(.*?)</word>', re.S)
    for p, page in enumerate(re.findall(r"<page[^>]*>(.*?)</page>", out, re.S)):
        lines = [sorted((float(a), float(b), float(c), html.unescape(t)) for a, b, c, t in word.findall(line))
                 for line in re.findall(r"<line[^>]*>(.*?)</line>", page, re.S)]
        lines = [w for w in lines if w]
        starts = {round(w[0][0]) for w in lines}   # where the page's cells begin their lines
        for words in lines:
            segments, end = [], None
            for x0, y0, x1, t in words:
                if end is None or x0 - end > GAP or round(x0) in starts:
                    segments.append([x0, y0, x1, ""])
                segments[-1][2] = x1
                segments[-1][3] += t
                end = x1
            for x0, y0, x1, t in segments:   # a left-aligned cell's lines start alike, a centred one's centre alike
                streams.setdefault((p, "left", round(x0)), []).append((y0, t))
                streams.setdefault((p, "centre", round((x0 + x1) / 4)), []).append((y0, t))
            plain.append("".join(w[3] for w in words))
    text = "|".join("".join(t for _, t in sorted(v)) for v in streams.values()) + "|" + "|".join(plain)
    return re.sub(r"\s+", "", text)


def missing_cells(xlsx: Path, pdf: Path, sheets=None) -> list[tuple[str, str, str]]:
    """(sheet, cell, text) of every text cell of the workbook whose text the PDF does not show whole."""
    import openpyxl
    shown = column_texts(pdf)
    out = []
    for ws in openpyxl.load_workbook(xlsx):
        if sheets and ws.title not in sheets:
            continue
        for row in ws.iter_rows():
            for c in row:
                if not isinstance(c.value, str):
                    continue
                # a run of spaces inside a cell prints as a gap the column grouping cannot tell from a border:
                # then each of the cell's lines, cut at such gaps, must be shown whole
                parts = re.split(r"[ \u3000]{2,}|\n", c.value) if re.search(r"[ \u3000]{2,}", c.value) else [c.value]
                pieces = [re.sub(r"\s+", "", p) for p in parts]
                if any(p and p not in shown for p in pieces):
                    out.append((ws.title, c.coordinate, c.value))
    return out
