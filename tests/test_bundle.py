"""The offline bundle (issue 32): tools/bundle.py makes a folder of wheels that installs perftables with pip
alone, no index — checked by installing a bundle for this machine into a fresh virtual environment with
--no-index, as on a PC without internet; and the Windows bundle holds a wheel of every package for each
supported Python (pip resolves the whole install from the folder for win_amd64)."""
import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import bundle  # noqa: E402

pytestmark = [pytest.mark.slow]


def test_a_bundle_for_this_machine_installs_with_no_index_and_runs(tmp_path):
    folder = bundle.build(tmp_path / "离线安装包", platform="native", extras=(), make_zip=False)
    manifest = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
    assert manifest["install"] == "perftables" and any(w.startswith("python_calamine") for w in manifest["wheels"])
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    bundle._pip("install", "--no-index", "--find-links", str(folder), "perftables", offline=True, python=str(python))
    done = subprocess.run([str(python), "-m", "perftables", "forms"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "hebei-project" in done.stdout, done.stderr
    # nothing came from anywhere but the folder: every installed distribution is one of its wheels
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True)
    names = {d["name"].lower().replace("-", "_") for d in json.loads(listed.stdout)} - {"pip", "setuptools"}
    in_folder = {w.split("-")[0].lower() for w in manifest["wheels"]}
    assert names <= in_folder, names - in_folder


def test_the_windows_bundle_has_every_wheel_for_every_python(tmp_path):
    folder = bundle.build(tmp_path / "win", platform="windows", make_zip=True)
    wheels = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))["wheels"]
    for python in bundle.PYTHONS:   # build() checked each; the compiled ones are there for each, by name
        tag = "cp" + python.replace(".", "")
        for package in ("python_calamine", "lxml", "numpy", "pandas", "matplotlib"):
            assert any(w.startswith(package + "-") and f"-{tag}-" in w and w.endswith("win_amd64.whl")
                       for w in wheels), (package, python)
    guide = (folder / "安装说明.txt").read_bytes()   # Notepad's line ends
    assert "--no-index --find-links .".encode() in guide and b"\r\n" in guide and b"py -3 -m venv" in guide
    assert (tmp_path / "win.zip").is_file()
