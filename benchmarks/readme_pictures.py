"""The manual's pictures, made from the demo's own outputs so that they show what the code makes today:

    python benchmarks/readme_pictures.py            # writes docs/img/*.png (the manual shows them)
    python benchmarks/readme_pictures.py --out DIR  # elsewhere (the test does this)

The demo runs into a temporary folder; LibreOffice (soffice) turns a generated template, the summary
workbook and a published unit document into PDF; pdftoppm renders the page shown; the top of it is kept.
Needs LibreOffice and poppler-utils (what .ci/run installs)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "img"
sys.path.insert(0, str(ROOT))

# (picture, the demo output it shows, the page, the share of the page kept from the top)
PICTURES = [
    ("模板.png", "1-下发模板/307001_*.xlsx", "预算规模及资金用途", 0.64),
    ("汇总.png", "3-汇总/汇总.xlsx", 5, 0.45),
    ("审核问题.png", "3-汇总/汇总.xlsx", "怎么改", 0.55),
    ("公开文本.png", "5-公开/405002_*.docx", 5, 0.75),
]


def to_pdf(path: Path, work: Path) -> Path:
    """LibreOffice, headless, on an ASCII copy (it cannot always open non-ASCII paths)."""
    local = work / ("in" + path.suffix)
    shutil.copyfile(path, local)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{work}/profile", "--convert-to", "pdf",
                    "--outdir", str(work), str(local)], check=True, capture_output=True, timeout=300)
    return work / "in.pdf"


def page_of(pdf: Path, page) -> int:
    """A page number, or the first page whose text begins with the words given."""
    if isinstance(page, int):
        return page
    pages = int(next(line.split()[-1] for line in subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                                    text=True).stdout.splitlines()
                     if line.startswith("Pages:")))
    for n in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True,
                              text=True).stdout
        if page in text:
            return n
    raise SystemExit(f"{pdf}: no page shows “{page}”")


def main(out: Path = DOCS) -> list[Path]:
    from PIL import Image

    from perftables.cli.demo import run_demo
    out.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for _ in run_demo(tmp / "demo"):
            pass
        for name, pattern, page, keep in PICTURES:
            work = Path(tempfile.mkdtemp(dir=tmp))
            [source] = sorted((tmp / "demo").glob(pattern))[:1]
            pdf = to_pdf(source, work)
            n = page_of(pdf, page)
            subprocess.run(["pdftoppm", "-r", "90", "-f", str(n), "-l", str(n), "-png", str(pdf), str(work / "p")],
                           check=True)
            [png] = work.glob("p-*.png")
            image = Image.open(png)
            image.crop((0, 0, image.width, int(image.height * keep))).save(out / name, optimize=True)
            made.append(out / name)
            print(out / name)
    return made


if __name__ == "__main__":
    main(Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else DOCS)
