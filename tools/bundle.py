"""An offline bundle: perftables and every package it needs, as wheels in one folder (and a zip of it), for PCs
without internet (an intranet office PC). Made on a machine that reaches PyPI (or a mirror pip is set up for),
from a checkout:

    python tools/bundle.py                          # Windows x64, Python 3.11–3.14 → dist/perftables-离线安装包-windows
    python tools/bundle.py --platform native        # this machine's platform and Python (what the tests install)

On the PC without internet, in the unpacked folder (安装说明.txt says the same):

    py -3 -m venv C:\\perftables\\venv
    C:\\perftables\\venv\\Scripts\\pip install --no-index --find-links . "perftables[api,charts]"

Every target (platform × Python version) is checked before the bundle is called made: pip resolves the whole
install from the folder alone (--no-index, nothing else it may have been told to look in), as the offline PC
will.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13", "3.14")   # setup.cfg: python_requires >= 3.11
EXTRAS = ("api", "charts")                   # the data API (pandas) and the summary's charts (matplotlib)
PLATFORMS = {"windows": ["win_amd64"], "native": []}
README = """perftables 离线安装包（{platform}，Python {pythons}）

在不能上网的电脑上安装（先装好 Python {pythons} 中的一个，安装时勾选“Add python.exe to PATH”）：
把本文件夹复制到这台电脑，在本文件夹里打开命令提示符（地址栏输入 cmd 回车），运行两行：

{lines}

以后运行：{run}
本文件夹里的 {n} 个 wheel 文件是 perftables {version} 和它需要的全部软件包（{what}），已按上面每个 Python 版本核对过：
安装时不需要联网。
"""


def _pip(*args: str, offline: bool = False, python: str = sys.executable) -> None:
    """pip as a subprocess. offline: nothing but what the command names (no index, no config, no find-links
    from the environment) — as on a PC without internet."""
    env = dict(os.environ)
    if offline:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
        env["PIP_CONFIG_FILE"] = os.devnull
    subprocess.run([python, "-m", "pip", *args], check=True, env=env)


def _target(platform: str, python: str) -> list[str]:
    """pip's options for a target platform and Python ("native": this interpreter, none)."""
    if platform == "native":
        return []
    tags = [a for tag in PLATFORMS[platform] for a in ("--platform", tag)]
    return [*tags, "--python-version", python, "--implementation", "cp", "--only-binary", ":all:"]


def build(out: Path, platform: str = "windows", pythons=PYTHONS, extras=EXTRAS, make_zip: bool = True) -> Path:
    """The bundle folder (made afresh), checked for every target; its zip beside it when asked."""
    if platform == "native":
        pythons = (f"{sys.version_info.major}.{sys.version_info.minor}",)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    _pip("wheel", str(ROOT), "--no-deps", "--wheel-dir", str(out))
    wheel = next(out.glob("perftables-*.whl"))
    wanted = f"perftables[{','.join(extras)}]" if extras else "perftables"
    for python in pythons:
        _pip("download", f"{wheel}[{','.join(extras)}]" if extras else str(wheel), "--dest", str(out),
             "--only-binary", ":all:", *_target(platform, python))
    for python in pythons:
        check(out, platform, python, wanted)
    version = wheel.name.split("-")[1]
    wheels = sorted(p.name for p in out.glob("*.whl"))
    lines = ("py -3 -m venv C:\\perftables\\venv\n"
             f"C:\\perftables\\venv\\Scripts\\pip install --no-index --find-links . \"{wanted}\"") \
        if platform == "windows" else \
        (f"python3 -m venv ~/perftables-venv\n"
         f"~/perftables-venv/bin/pip install --no-index --find-links . \"{wanted}\"")
    run = "C:\\perftables\\venv\\Scripts\\perftables demo" if platform == "windows" else "~/perftables-venv/bin/perftables demo"
    text = README.format(platform=platform, pythons="、".join(pythons), lines=lines, run=run,
                         n=len(wheels), version=version,
                         what="、".join(sorted({w.split("-")[0] for w in wheels} - {"perftables"})))
    (out / "安装说明.txt").write_text(text.replace("\n", "\r\n") if platform == "windows" else text, encoding="utf-8")
    (out / "bundle.json").write_text(json.dumps({"platform": platform, "pythons": list(pythons), "install": wanted,
                                                 "wheels": wheels}, ensure_ascii=False, indent=1), encoding="utf-8")
    if make_zip:
        shutil.make_archive(str(out), "zip", out.parent, out.name)
    return out


def check(folder: Path, platform: str, python: str, wanted: str) -> None:
    """pip resolves `wanted` for the target from the folder alone, or the bundle is not complete."""
    with tempfile.TemporaryDirectory() as scratch:   # (pip download: install --dry-run --target checks
        _pip("download", "--no-index", "--find-links", str(folder), "--dest", scratch,   # Requires-Python
             *_target(platform, python), wanted, offline=True)                          # against itself)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", choices=sorted(PLATFORMS), default="windows")
    ap.add_argument("--python", nargs="+", default=list(PYTHONS), help="Python versions (default: %(default)s)")
    ap.add_argument("--extras", default=",".join(EXTRAS), help="extras installed with it (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=None, help="the folder (default: dist/perftables-离线安装包-<platform>)")
    ap.add_argument("--no-zip", action="store_true", help="the folder only")
    args = ap.parse_args(argv)
    out = args.out or ROOT / "dist" / f"perftables-离线安装包-{args.platform}"
    extras = tuple(e for e in args.extras.split(",") if e)
    folder = build(out, args.platform, tuple(args.python), extras, not args.no_zip)
    print(f"离线安装包：{folder}" + ("" if args.no_zip else f"（及 {folder}.zip）"))
    print((folder / "安装说明.txt").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
