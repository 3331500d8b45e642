"""core.cells: cell addresses and label comparison, the lowest layer the form language, writer and reader share."""
import pytest

from perftables.core.cells import cell_name, col_index, col_letters, norm_label, span


@pytest.mark.parametrize("letters, index", [("A", 0), ("B", 1), ("Z", 25), ("AA", 26), ("AZ", 51), ("XFD", 16383)])
def test_column_letters_and_index_are_inverse(letters, index):
    assert col_index(letters) == index and col_letters(index) == letters
    assert col_index(f" {letters.lower()} ") == index          # as descriptions are written


def test_cell_names_and_spans():
    assert cell_name(0, 0) == "A1" and cell_name(11, 5) == "F12"
    assert span("B") == (1, 1) and span("D:H") == (3, 7) and span(" d : h ") == (3, 7)


@pytest.mark.parametrize("a, b", [("项目名称", "项目 名称"), ("项目名称", "项目\u3000名称\n"), ("（万元）", "(万元)"),
                                  ("ＡＢＣ１", "ABC1"), ("一级指标", " 一级\t指标 ")])
def test_labels_compare_as_a_person_reads_them(a, b):
    assert norm_label(a) == norm_label(b)


def test_labels_that_differ_stay_different():
    assert norm_label("一级指标") != norm_label("二级指标") and norm_label(None) == "" and norm_label(12) == "12"
