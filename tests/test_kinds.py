"""Meaning as types (core.kinds): a form's kind, a file's fate and a finding's severity are enum members that
print as the words the outputs have always printed."""
from conftest import EXAMPLES
from perftables.core.kinds import ACCEPTED_FATES, SELFEVAL_KINDS, TARGET_KINDS, Fate, FormKind, Severity
from perftables.cycle.collect import collect
from perftables.forms.form import list_forms


def test_every_shipped_form_has_a_typed_kind():
    forms = list_forms()
    assert forms and all(isinstance(f.kind, FormKind) for f in forms)
    assert {f.kind for f in forms} == set(FormKind)
    assert TARGET_KINDS | SELFEVAL_KINDS == set(FormKind) and not TARGET_KINDS & SELFEVAL_KINDS
    assert [k for k in FormKind if k.is_department] == [FormKind.DEPT_TARGET, FormKind.DEPT_SELFEVAL]
    assert FormKind.DEPT_SELFEVAL.title == "部门整体支出绩效自评表"


def test_members_are_the_printed_words():
    assert f"{Fate.ACCEPTED_FINDINGS}" == "已采用（有问题）" and Severity.ERROR == "错误"
    assert ACCEPTED_FATES == {Fate.ACCEPTED, Fate.ACCEPTED_FINDINGS}
    assert "已采用" in ACCEPTED_FATES and "已被替代" not in ACCEPTED_FATES   # rows read back from a summary


def test_a_collection_speaks_in_members():
    col = collect([EXAMPLES / "returns"])
    assert col.kind is FormKind.PROJECT_TARGET
    assert all(isinstance(f.fate, Fate) for f in col.files)
    findings = [x for f in col.accepted for x in f.result.findings]
    assert findings and all(isinstance(x.severity, Severity) for x in findings)


def test_a_file_format_is_a_member_printed_as_its_word():
    import io
    import zipfile

    import pytest

    from perftables.io.book import SPREADSHEETS, Format, ReadError, read_book, sniff
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    assert sniff(b"") is Format.EMPTY and sniff(b"%PDF-1.4") is Format.PDF and sniff(buf.getvalue()) is Format.ZIP
    assert sniff(b"Rar!\x1a\x07\x00") is Format.RAR and sniff(b"7z\xbc\xaf\x27\x1c") is Format.SEVEN_Z
    with pytest.raises(ReadError) as raised:
        read_book(buf.getvalue())
    assert raised.value.kind is Format.ARCHIVE and f"{raised.value.kind}" == "archive"   # 文件清单's 格式, as before
    assert {f for f in Format if f.is_spreadsheet} == SPREADSHEETS and Format.DOC.is_word
