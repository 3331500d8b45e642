"""The coordinator's Windows PC, made visible on Linux: a GBK console, Windows' error codes, its process pools."""
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT
from perftables.core import parallel
from perftables.core.files import describe_os_error


class WindowsError_(OSError):
    """An OSError as Windows raises it: errno from the C runtime, winerror the system's own code."""

    def __init__(self, errno_, winerror, filename):
        super().__init__(errno_, "", filename)
        self.winerror = winerror


@pytest.mark.parametrize("errno_, winerror, words", [
    (13, 32, "在 Excel 或 WPS 中打开着"), (13, 33, "在 Excel 或 WPS 中打开着"),
    (13, 5, "在 Excel 或 WPS 中打开着（请先关闭），或是只读文件"), (2, 206, "路径太长"),
    (2, 53, "网络"), (28, 112, "磁盘已满"),
])
def test_windows_errors_say_what_to_do(errno_, winerror, words):
    message = describe_os_error(WindowsError_(errno_, winerror, r"D:\绩效\汇总.xlsx"))
    assert words in message and "D:\\绩效\\汇总.xlsx" in message


def test_workers_are_capped_where_the_pool_is(monkeypatch):
    monkeypatch.setattr(parallel.sys, "platform", "win32")
    assert parallel.usable_workers(256) == 61 and parallel.usable_workers(4) == 4
    monkeypatch.setenv("PERFTABLES_WORKERS", "200")
    assert parallel.default_workers() == 61
    monkeypatch.setattr(parallel.sys, "platform", "linux")
    assert parallel.usable_workers(256) == 256


def test_a_gbk_console_never_ends_the_run(tmp_path):
    """Output redirected through a strict GBK stream (a Chinese Windows console): a file named with • and an
    emoji is listed with a replacement character, the run ends as it should (no 内部错误)."""
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    (inbox / "报表•回执😀.xlsx").write_bytes(b"not a workbook")
    env = {**os.environ, "PYTHONIOENCODING": "gbk", "PERFTABLES_KEY": str(EXAMPLES / "示例签名密钥.key"),
           "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "输出.txt", "wb") as out:
        r = subprocess.run([sys.executable, "-m", "perftables", "collect", str(inbox), "-o", str(tmp_path / "汇总.xlsx")],
                           stdout=out, stderr=subprocess.STDOUT, env=env, timeout=120)
    text = (tmp_path / "输出.txt").read_bytes().decode("gbk")
    assert r.returncode == 0 and "内部错误" not in text and "Traceback" not in text, text
    assert "报表•回执?.xlsx" in text or "报表?回执?.xlsx" in text, text
    assert "\x1b[" not in text   # no terminal control sequence into a file


def test_the_entry_point_supports_a_frozen_build():
    """PyInstaller's workers start the .exe again: freeze_support() makes them run the worker, not the CLI."""
    import inspect

    from perftables.cli import main as cli_main
    assert "multiprocessing.freeze_support()" in inspect.getsource(cli_main.main)


def test_names_are_limited_in_bytes_not_characters(tmp_path):
    """A zip member named with 120 Chinese characters (360 bytes) ended collect with 文件名太长, losing 待处理/
    for every unit: every name we choose fits the file system's byte limit, shortened predictably and uniquely."""
    import zipfile

    from perftables.core.files import MAX_NAME_BYTES, safe_file_name
    from conftest import run
    long_a, long_b = "报" * 120 + ".xlsx", "报" * 119 + "表.xlsx"
    a, b = safe_file_name(long_a), safe_file_name(long_b)
    assert a != b and len(a.encode()) <= MAX_NAME_BYTES and a.endswith(".xlsx") and a == safe_file_name(long_a)
    assert safe_file_name("短名字.xlsx") == "短名字.xlsx"
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "打包.zip", "w") as z:
        z.writestr(long_a, b"not a workbook")
        z.writestr(long_b, b"not a workbook either")
    (inbox / ("名" * 80 + ".xlsx")).write_bytes(b"x")   # 240 bytes: allowed here, too long for a copy's prefix
    r = run("collect", inbox, "-o", tmp_path / "汇总" / "汇总.xlsx")
    assert r.exit_code == 0 and "文件名太长" not in r.output, r.output
    held = sorted((tmp_path / "汇总" / "待处理").iterdir())
    assert len(held) == 4 and all(len(p.name.encode()) <= 255 for p in held)   # three copies and the list


def test_optional_parts_say_what_to_install(tmp_path, monkeypatch):
    """Without pandas, frames() is a Chinese message naming the extra (was a bare ModuleNotFoundError); without
    matplotlib, publish says the county summary has no charts and how to get them."""
    import builtins

    from perftables.core.errors import PerftablesError
    from perftables.cycle.collect import collect
    from perftables.outputs import publish as publish_module
    from perftables.outputs.data import frames
    from perftables.outputs.summary import build_tables
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)
    col = collect([EXAMPLES / "returns"])
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(PerftablesError, match=r"需要 pandas：pip install \"perftables\[api\]\""):
        frames(build_tables(col))
    monkeypatch.setattr(builtins, "__import__", real_import)
    monkeypatch.setattr(publish_module, "charts_available", lambda: False)
    monkeypatch.setattr(publish_module, "chart_png", lambda *a: None)   # matplotlib not there
    notes: list = []
    written = publish_module.publish(col, tmp_path / "公开", pdf=False, notes=notes)
    assert any("表格条形图" in n and "perftables[charts]" in n for n in notes), notes
    # the chart is there all the same, drawn as a table: a unit a row, the longest bar the largest budget
    county = next(p for p in written if p.suffix == ".docx" and "汇总" in p.name)
    bars = next(t for t in publish_module.read_docx_tables(county) if any("█" in c for r in t for c in r))
    budgets = {r[0]: (len(r[1]), float(r[2])) for r in bars}
    assert len(budgets) == len(col.accepted)
    longest = max(budgets.values())
    assert longest[0] == publish_module.BAR_BLOCKS and longest[1] == max(b for _, b in budgets.values())
    assert all(n >= 1 for n, b in budgets.values() if b > 0)      # the smallest budget still shows a bar


def test_a_path_windows_cannot_hold_is_a_message_before_anything_is_written(tmp_path, monkeypatch):
    """On a Windows PC without long paths, a file over 260 characters cannot be written (often from a Desktop
    folder): the command says so, naming the file, and writes nothing in its place."""
    from perftables.core import files
    from conftest import run
    monkeypatch.setattr(files, "_short_paths", lambda: True)     # a Windows PC without long paths
    deep = tmp_path.joinpath(*[f"第{i}层很深的文件夹名字很长很长很长很长很长很长很长很长很长" for i in range(7)])
    target = deep / "汇总.xlsx"
    assert len(str(target)) > 260
    with pytest.raises(files.OutputError, match="路径太长"):
        files.write_bytes(target, b"x")
    assert not target.exists()
    r = run("collect", EXAMPLES / "returns", "-o", target, "--no-cache")
    assert r.exit_code == 2 and "路径太长" in r.output and "汇总.xlsx" in r.output and "Traceback" not in r.output
    monkeypatch.setattr(files, "_short_paths", lambda: False)   # long paths on: nothing to say
    files.write_bytes(target, b"x")
    assert target.read_bytes() == b"x"


def test_names_we_choose_are_shortened_to_fit_a_windows_path(tmp_path, monkeypatch):
    """Where perftables chooses a file's name (templates, self-evaluations, feedback, mail drafts, published
    documents), a deep folder on a Windows PC without long paths gets a shorter name — its end replaced by a short
    hash of the whole, so two units stay two files — rather than a failure; the file and its temporary twin fit
    260 characters. A folder too deep for any name is still said (the test above)."""
    from conftest import run
    from perftables.core import files
    monkeypatch.setattr(files, "_short_paths", lambda: True)     # a Windows PC without long paths
    deep = tmp_path / "很深的文件夹"
    while len(str(deep)) < files.WINDOWS_MAX_PATH - 60:   # 60 characters left: the usual names do not fit
        deep = deep / "很深的文件夹"
    deep.mkdir(parents=True)
    r = run("generate", EXAMPLES / "roster.csv", "-o", deep / "模板", "--year", "2025")
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (deep / "模板").iterdir())
    books = [n for n in names if n.endswith(".xlsx")]
    assert len(books) == len(set(books)) == 5 and all("~" in n for n in books), names
    r = run("collect", EXAMPLES / "returns", "-o", deep / "汇总.xlsx", "--no-cache", "--feedback", deep / "退改",
            "--deadline", "2025-02-10")
    assert r.exit_code == 0, r.output
    r2 = run("publish", EXAMPLES / "returns", "-o", deep / "公开", "--no-pdf", "--force")
    assert r2.exit_code == 0, r2.output
    written = [p for p in deep.rglob("*") if p.is_file()]
    assert any(p.parent.name == "退改" for p in written) and any(p.parent.name == "公开" for p in written)
    longest = max(len(str(files._temp_for(p))) for p in written)
    assert longest <= files.WINDOWS_MAX_PATH, longest
    assert run("generate", EXAMPLES / "roster.csv", "-o", deep / "样板", "--year", "2025").exit_code == 0
    assert sorted(p.name for p in (deep / "样板").iterdir()) == names     # the same names each time
