"""Writing the coordinator's files safely: atomically, never over an input, with one CSV writer.

Every file perftables writes goes through here:
- `atomic_path` / `write_bytes`: written under a temporary name in the same folder
  (`~$perftables-…`, a name collect skips like Office's own lock files), flushed, then renamed
  over the target in one step — an interrupted run leaves the old file or the new one, never half;
- `guard_outputs`: an output that equals or lies inside an input the command reads, or equals
  any file it reads (roster, department data, letter), is refused before anything is written;
- `check_writable`: an output folder that cannot be created or written is a message naming it,
  found before the work starts;
- `write_csv`: the one CSV writer (UTF-8 with BOM for Excel/WPS); every cell that a spreadsheet
  would run as a formula (= + - @, tab, CR) is written as text.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from .errors import PerftablesError
from .text import BIDI, INVISIBLE, xml_safe

TEMP_PREFIX = "~$perftables-"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(PerftablesError):
    """An output cannot be written where it was asked for (a Chinese message naming the path)."""


def describe_os_error(exc: OSError, action: str = "写入") -> str:
    """An OS error as a Chinese sentence naming the path."""
    import errno

    where = exc.filename if exc.filename is not None else ""
    reasons = {errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.ENOSPC: "磁盘已满",
               errno.EROFS: "磁盘只读", errno.ENOENT: "路径不存在", errno.EEXIST: "已存在",
               errno.EISDIR: "是一个文件夹", errno.ENOTDIR: "路径中有一段不是文件夹", errno.EBUSY: "文件被占用",
               errno.ENAMETOOLONG: "文件名太长", errno.EDQUOT: "超出磁盘配额",
               errno.EFBIG: "文件超过了系统允许的单个文件大小上限（系统或磁盘格式的限制，如 FAT32 的 U 盘限 4 GB）",
               errno.EIO: "磁盘读写出错（U 盘或网络盘断开了？）"}
    reason = reasons.get(exc.errno, exc.strerror or type(exc).__name__)
    reason = WINDOWS_REASONS.get(getattr(exc, "winerror", None), reason)
    return f"无法{action}“{where}”：{reason}" if where else f"无法{action}：{reason}"


# What Windows says, in the words a coordinator acts on. Replacing a file that Excel or WPS holds open fails
# with 32 (sharing violation) or 33 (lock), and often with 5 (access denied) — which is also a read-only file.
OPEN_ELSEWHERE = "文件在 Excel 或 WPS 中打开着，请先关闭它再重试"
WINDOWS_REASONS = {
    32: OPEN_ELSEWHERE, 33: OPEN_ELSEWHERE,
    5: "没有权限：文件可能在 Excel 或 WPS 中打开着（请先关闭），或是只读文件（右键“属性”取消“只读”）",
    206: "路径太长（Windows 通常限 260 个字符）：请把文件夹放在浅一些的位置，如 D:\\绩效",
    3: "路径不存在，或路径太长（Windows 通常限 260 个字符）",
    53: "找不到网络路径（网络共享断开了？）", 67: "找不到网络名（网络共享断开了？）",
    64: "网络连接中断（网络共享）", 1231: "网络不可达（网络共享）",
    112: "磁盘已满", 19: "磁盘有写保护", 1224: "文件在其他程序中打开着（映射到内存），请先关闭它再重试",
}


def _temp_for(path: Path) -> Path:
    return path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(4)}-{path.name}")


WINDOWS_MAX_PATH = 259   # MAX_PATH (260) less its terminating NUL


def _long_paths_enabled() -> bool:
    """Whether this Windows lets programs use paths over 260 characters (LongPathsEnabled; Python declares
    itself long-path aware). Off by default on office PCs."""
    try:
        import winreg
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
            return winreg.QueryValueEx(key, "LongPathsEnabled")[0] == 1
    except (ImportError, OSError):
        return False


def _short_paths() -> bool:
    """Whether paths here stop at 260 characters (Windows without long paths)."""
    return sys.platform == "win32" and not _long_paths_enabled()


def check_path_length(path: Path, shown: Path | None = None) -> None:
    """On Windows without long paths, a path over 260 characters cannot be written: say so, naming the file the
    user will look for, before anything is written (elsewhere: nothing to check)."""
    if not _short_paths():
        return
    full = str(Path(os.path.abspath(path)))
    if len(full) > WINDOWS_MAX_PATH:
        raise OutputError(f"路径太长（{len(full)} 个字符，Windows 通常限 260 个）：“{shown or path}”。"
                          f"请把输出文件夹放在浅一些的位置（如 D:\\绩效），或缩短文件夹的名字")


def fit_name(folder, name: str) -> str:
    """A file name we choose, shortened (its end replaced by a short hash of the whole, its extension kept) so
    that the file and its temporary twin fit Windows' 260 characters in `folder` when this PC has no long
    paths; elsewhere, or when it fits, as it is. A folder so deep that no sensible name fits is left to
    check_path_length, which says so."""
    if not _short_paths():
        return name
    room = WINDOWS_MAX_PATH - len(str(Path(os.path.abspath(folder)))) - 1 - len(_temp_for(Path(name)).name) + len(name)
    if len(name) <= room:
        return name
    suffix = Path(name).suffix
    tag = "~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    keep = room - len(suffix) - len(tag)
    if keep < 8:
        return name
    return name[: len(name) - len(suffix)][:keep].rstrip() + tag + suffix


@contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; when the block ends without error it becomes `path`."""
    path = Path(path)
    tmp = _temp_for(path)
    check_path_length(tmp, shown=path)   # the temporary name is the longer one
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield tmp
        _sync(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        # xlsxwriter wraps the OS error; either way, name the file the user asked for, not the temporary one
        cause = exc.args[0] if type(exc).__name__ == "FileCreateError" and exc.args and \
            isinstance(exc.args[0], OSError) else exc
        if isinstance(cause, OSError):
            cause.filename = str(path)
            if cause is not exc:
                raise cause from None
        raise


def _sync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(path, text.encode(encoding))


def safe_cell(value) -> str:
    """A CSV cell as text; one that a spreadsheet would run as a formula is kept as text; control characters
    (an escape sequence typed into a cell) never reach the file."""
    text = "" if value is None else xml_safe(str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(path, *parts) -> Path:
    """The one CSV writer (UTF-8 with BOM, as Excel and WPS open it): header and rows streamed to a
    temporary file, every cell guarded, renamed when complete. parts: rows (lists of cells), or a binary
    file holding rows made elsewhere by csv_text (UTF-8), written in order."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
            for rows in parts:
                if hasattr(rows, "read"):
                    fh.flush()
                    rows.seek(0)
                    shutil.copyfileobj(rows, fh.buffer)
                else:
                    csv.writer(fh).writerows([safe_cell(v) for v in row] for row in rows)
    return Path(path)


def csv_text(rows, convert=str) -> str:
    """Rows as write_csv writes them (guarded), as text: made in a worker, spooled to a file and
    given to write_csv. convert: how a cell that is not text becomes text (before the guard)."""
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([v if type(v) is str and v.isprintable() and not v.startswith(FORMULA_START)
                               else safe_cell(convert(v)) for v in row] for row in rows)
    return buf.getvalue()


def unguard(text: str) -> str:
    """A cell read back from our CSV: the formula guard removed."""
    return text[1:] if isinstance(text, str) and text[:1] == "'" and text[1:2] in FORMULA_START else text


# --------------------------------------------------------------------------- where outputs may go

def _real(path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def _same_or_inside(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def guard_outputs(outputs: dict[str, object], inputs=(), reads=(), folders=()) -> None:
    """Refuse any output (name → path) that equals or lies inside an input (file or folder), or equals
    a file the command reads; an output folder (named in `folders`) may not hold a file the command reads."""
    ins = [(p, _real(p)) for p in inputs if p]
    files = [(p, _real(p)) for p in reads if p]
    for what, out in outputs.items():
        if not out:
            continue
        real = _real(out)
        for shown, inp in ins:
            if _same_or_inside(real, inp) or _same_file(real, inp):
                raise OutputError(f"{what}“{out}”与输入“{shown}”相同或在其中（会覆盖或混入原件），请换一个位置")
        for shown, inp in files:
            if real == inp or _same_file(real, inp):
                raise OutputError(f"{what}“{out}”就是要读取的文件“{shown}”，会把它覆盖，请换一个位置")
            if what in folders and inp.parent == real:
                raise OutputError(f"{what}“{out}”里有要读取的文件“{shown}”（可能被同名输出覆盖），请换一个位置")


def check_writable(folder, what: str = "输出文件夹") -> None:
    """The folder exists or can be made, and a file can be written in it."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{what}“{folder}”已是一个文件，不是文件夹")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = _temp_for(folder / "probe")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        exc.filename = str(folder)
        raise OutputError(describe_os_error(exc)) from None


_HIDDEN_RE = re.compile(f"[{INVISIBLE}{BIDI}]")   # a name that shows one extension and has another
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)


# File systems limit a name in bytes (255 on Linux, in UTF-8: 85 Chinese characters), not in characters. A
# name we choose stays well under it, leaving room for what is put around it later (the temporary file's
# "~$perftables-xxxxxxxx-" prefix, a feedback round's "（审核意见第N轮）").
MAX_NAME_BYTES = 180


def safe_file_name(name: str, fallback: str = "unnamed", max_stem: int = 150) -> str:
    """A file name every file system (and every mail client) accepts: no character Windows refuses, not
    one of its reserved names, at most max_stem characters and MAX_NAME_BYTES bytes, its extension kept.
    A name that had to be shortened ends in a short hash of the whole: shortened predictably, and two long
    names that differ only at their ends stay two names."""
    name = _UNSAFE_NAME.sub("_", _HIDDEN_RE.sub("", name)).strip().strip(".")
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 8 or not stem:
        stem, ext = name, ""
    whole, stem = stem.strip(), stem.strip()[:max_stem] or fallback
    budget = MAX_NAME_BYTES - (len(ext.encode("utf-8")) + 1 if ext else 0)
    if stem != whole or len(stem.encode("utf-8")) > budget:
        tag = "~" + hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        room = min(budget, len(stem.encode("utf-8"))) - len(tag)
        stem = stem.encode("utf-8")[:max(room, 1)].decode("utf-8", "ignore").rstrip() + tag
    if _WINDOWS_RESERVED.match(stem):
        stem = f"_{stem}"
    return f"{stem}.{ext}" if ext else stem


def find_soffice() -> str | None:
    """LibreOffice's soffice: on PATH, or where the Windows installer puts it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)")):
        if base:
            exe = Path(base) / "LibreOffice" / "program" / "soffice.exe"
            if exe.is_file():
                return str(exe)
    return None


_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "fuse.sshfs", "9p", "ncpfs", "davfs", "fuse.davfs2"}


def network_share(path) -> str | None:
    """What network file system the path lies on (None: a local disk). SQLite's locking is not safe on
    network shares, so the round's state is refused there."""
    path = Path(path).absolute()
    if os.name == "nt":
        text = str(path)
        if text.startswith("\\\\"):
            return "网络共享文件夹"
        try:
            import ctypes
            drive = os.path.splitdrive(text)[0] + "\\"
            return "网络驱动器" if ctypes.windll.kernel32.GetDriveTypeW(drive) == 4 else None   # DRIVE_REMOTE
        except (OSError, AttributeError):
            return None
    try:
        with open("/proc/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split()[1:3] for line in fh if len(line.split()) > 2]
    except OSError:
        return None
    text = str(path.resolve())
    best = ("", "")
    for point, fstype in mounts:
        point = point.replace("\\040", " ")
        if (text == point or text.startswith(point.rstrip("/") + "/")) and len(point) > len(best[0]):
            best = (point, fstype)
    return best[1] if best[1] in _NETWORK_FS else None
