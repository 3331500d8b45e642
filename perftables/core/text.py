"""Text that is not what it seems: invisible characters, direction overrides, characters XML cannot hold.

Three uses, one place: where identity is decided (a unit or project code), text is reduced to what a person
means (code_key); where text is written into a workbook, a document or a CSV, what XML cannot hold is dropped
(xml_safe); where a person reads a name (a terminal, a list of files), what would hide or reorder it is shown
as a visible mark (shown_name)."""
from __future__ import annotations

import re
import unicodedata

# characters with no width: typed by accident (copied from a web page) or on purpose (two codes that look one)
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
# characters that reorder what follows (“回执\u202exslx.exe” shows as “回执exe.xlsx”)
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_RE = re.compile(f"[{BIDI}]")
_HIDDEN_RE = re.compile(f"[{INVISIBLE}{BIDI}]")
# what XML 1.0 cannot hold (a workbook's, a document's text): C0 controls but tab and line breaks, lone
# surrogates, the two non-characters
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UNSHOWN = re.compile(f"[\x00-\x1f\x7f-\x9f{INVISIBLE}{BIDI}\u2028\u2029]")

# a unit code as every part of the tool can carry it: in a stamp, a file name, a mail subject
UNIT_CODE_RE = re.compile(r"[^\x00-\x1f/\\]{1,64}")


def code_key(text) -> str:
    """A code as a person means it: NFKC (full-width digits are digits), no invisible or direction
    characters, no white space of any width."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text))
    return "".join(_HIDDEN_RE.sub("", text).split())


def unit_code_problem(code: str) -> str:
    """Why a unit code cannot be carried through a round ('' when it can)."""
    if len(code) > 64:
        return f"单位编码“{code[:20]}…”太长（{len(code)} 个字符，最多 64 个）"
    if not UNIT_CODE_RE.fullmatch(code):
        return f"单位编码“{code}”含有“/”“\\”或控制字符，不能用作编码（文件名、标识都要用到它）"
    return ""


def has_bidi(text) -> bool:
    return isinstance(text, str) and not text.isprintable() and _BIDI_RE.search(text) is not None


def has_hidden(text) -> bool:
    """Invisible or direction characters in a text a person will read (every one is unprintable: the usual
    text is passed at C speed)."""
    return isinstance(text, str) and not text.isprintable() and _HIDDEN_RE.search(text) is not None


def xml_safe(text: str) -> str:
    """The text without what XML cannot hold (a fast path for the usual text)."""
    if text.isprintable():
        return text
    return _XML_ILLEGAL.sub("", text)


def shown_name(text: str) -> str:
    """A name as it may be shown to a person: every control, invisible or direction character made a visible
    mark (⟨U+202E⟩), so that nothing is hidden, reordered or sent to the terminal as an escape sequence."""
    if text.isprintable():
        return text
    return _UNSHOWN.sub(lambda m: f"⟨U+{ord(m[0]):04X}⟩", text)
