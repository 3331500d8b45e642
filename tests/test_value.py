import pytest

from perftables.value import compose, parse, parse_amount

SEED_VALUES = [
    # (raw, kind, op, num, unit, suffix, note)
    ("≥90%", "quant", "≥", 90, "%", None, None),
    (">95%", "quant", ">", 95, "%", None, None),
    ("≥10次", "quant", "≥", 10, "次", None, None),
    ("≥2 次", "quant", "≥", 2, "次", None, None),
    ("≤12 万元", "quant", "≤", 12, "万元", None, None),
    ("≥90", "quant", "≥", 90, None, None, None),
    ("≥2个/家", "quant", "≥", 2, "个/家", None, None),
    ("≥90%(优秀等级项目数量的优良率)", "quant", "≥", 90, "%", None, "(优秀等级项目数量的优良率)"),
    ("≥10种（开展科普宣传形式的多样性品种或数量（次）", "quant", "≥", 10, "种", None, "（开展科普宣传形式的多样性品种或数量（次）"),
    ("≥1000份（）", "quant", "≥", 1000, "份", None, "（）"),
    ("≥5个地方科协改革试点(地方科协改革试点科技工作者之家建设)", "quant", "≥", 5, "个", None,
     "地方科协改革试点(地方科协改革试点科技工作者之家建设)"),
    ("1人", "quant", None, 1, "人", None, None),
    ("20万人次", "quant", None, 20, "万人次", None, None),
    ("12个月", "quant", None, 12, "个月", None, None),
    ("625.87万元", "quant", None, 625.87, "万元", None, None),
    ("50万", "quant", None, 50, "万", None, None),
    ("600篇（条）", "quant", None, 600, "篇（条）", None, None),
    ("1 年", "quant", None, 1, "年", None, None),
    ("98.9%", "quant", None, 98.9, "%", None, None),
    ("41000", "quant", None, 41000, None, None, None),
    ("90%以上", "quant", "≥", 90, "%", "以上", None),
    ("不少于4次", "quant", "≥", 4, "次", None, None),
    ("2022.12", "date", "≤", None, None, None, None),
    ("2021年12月底之前", "date", "≤", None, None, "之前", None),
    ("是否按时完成", "question", None, None, None, None, None),
    ("显著提升", "qual", None, None, None, None, None),
    ("推进科技经济融合，促进科技成果转化", "qual", None, None, None, None, None),
    ("%", "placeholder", None, None, None, None, None),
    ("　", "empty", None, None, None, None, None),
]


@pytest.mark.parametrize("raw,kind,op,num,unit,suffix,note", SEED_VALUES)
def test_parse_seed_values(raw, kind, op, num, unit, suffix, note):
    v = parse(raw)
    assert (v.kind, v.op, v.num, v.unit, v.suffix, v.note) == (kind, op, num, unit, suffix, note)
    if kind != "empty":
        assert v.render() == raw


def test_placeholders_from_form():
    assert parse("是/否", placeholders=("是/否",)).kind == "placeholder"
    assert parse("是/否").kind == "qual"


def test_canonical_drops_spaces_and_notes():
    assert parse("≥2 次").canonical() == "≥2次"
    assert parse(">=90%").canonical() == "≥90%"
    assert parse("≥90%(注)").canonical() == "≥90%"


@pytest.mark.parametrize("cells,raw", [
    (("≥", 90.0, "%"), "≥90%"),
    (("≤", "12", "万元"), "≤12万元"),
    (("定性", "显著提升", None), "显著提升"),
    ((None, "≥90%", None), "≥90%"),          # the whole string typed into the value cell
    (("≥", "≥90%", "%"), "≥90%"),            # and the sign and unit chosen as well
    ((None, 4.0, "次"), "4次"),
    ((None, "９０", "%"), "９０%"),
])
def test_compose(cells, raw):
    assert compose(*cells).raw == raw


def test_compose_unit_alone_is_placeholder():
    assert compose(None, None, "%").kind == "placeholder"
    assert compose(None, None, None).kind == "empty"


@pytest.mark.parametrize("cell,value,noted", [
    (2000.0, 2000.0, False), ("2,000", 2000.0, True), ("12万元", 12.0, True), ("１２", 12.0, True),
    ("12.0 ", 12.0, True), ("120000元", 12.0, True),
])
def test_amounts(cell, value, noted):
    a = parse_amount(cell)
    assert a.value == value and a.error is None and bool(a.note) == noted


def test_amount_not_a_number_is_never_zero():
    a = parse_amount("十二万")
    assert a.value is None and "不是数字" in a.error
