"""One family of errors: each is a failure the user can act on, its text the Chinese message to show.

exit_code tells the command line how it ended: 2 — the input or the request (a roster with a mistake, an
output over an input, a form description that does not check); 1 — the world (a mail server down, a disk).
The command line catches PerftablesError once; anything else is a bug of ours (a report file, exit 1)."""
from __future__ import annotations


class PerftablesError(Exception):
    exit_code = 2


class WorldError(PerftablesError):
    """Nothing wrong with what was asked: a server, a network or the machine failed."""
    exit_code = 1


def describe_exception(exc: BaseException) -> str:
    """What went wrong inside a file a unit sent, in Chinese: never a Python class name (that is for the
    maintainer: PERFTABLES_DEBUG=1 adds it)."""
    import os
    import struct
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    kinds = ((MemoryError, "内容过大，本机内存不够"),
             (RecursionError, "结构嵌套过深"),
             ((zipfile.BadZipFile, zlib.error), "压缩结构已损坏"),
             ((EOFError, zipfile.LargeZipFile), "文件不完整（可能在传送中被截断）"),
             (ParseError, "内部 XML 结构已损坏"),
             (UnicodeError, "文字编码无法识别"),
             (struct.error, "二进制结构已损坏"),
             (OSError, "文件无法读取（被占用、权限或磁盘问题）"),
             ((ValueError, KeyError, IndexError, TypeError, AttributeError, LookupError, ArithmeticError),
              "内容结构不符合文件格式"))
    said = next((text for cls, text in kinds if isinstance(exc, cls)), None)
    if said is None:   # a reader's own error class (calamine, lxml): what its text says it is
        text = str(exc).lower()
        said = ("压缩结构已损坏" if "zip" in text or "deflate" in text else
                "内部 XML 结构已损坏" if "xml" in text else "文件内容无法解析")
    if os.environ.get("PERFTABLES_DEBUG"):
        said += f"（{type(exc).__name__}: {str(exc)[:120]}）"
    return said
