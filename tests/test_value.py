import pytest

from perftables.core.value import compose, parse, parse_amount

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


# Spellings of 指标值 seen in published tables of other provinces: every one is read into the structured
# value (sign normalised, number, unit compared as its symbol) and prints back exactly as written.
PUBLISHED = [
    # (raw, op, num, unit as compared, deadline written before it)
    ("≧95%", "≥", 95, "%", None),
    ("≦3天", "≤", 3, "天", None),
    ("﹦100%", "=", 100, "%", None),
    ("﹥80%", ">", 80, "%", None),
    (">=90%", "≥", 90, "%", None),
    ("<=5个工作日", "≤", 5, "个工作日", None),
    ("＞＝98％", "≥", 98, "%", None),
    ("大于等于90%", "≥", 90, "%", None),
    ("不低于95%", "≥", 95, "%", None),
    ("不超过 30 天", "≤", 30, "天", None),
    ("不小于 2 次", "≥", 2, "次", None),
    ("超过10次", ">", 10, "次", None),
    ("≮90%", "≥", 90, "%", None),
    ("=100百分比", "=", 100, "%", None),
    ("≥100百分比", "≥", 100, "%", None),
    ("=300天", "=", 300, "天", None),
    ("11月30日前≧95%", "≥", 95, "%", "11月30日前"),
    ("2025年6月底前 ≥ 90%", "≥", 90, "%", "2025年6月底前"),
    ("12月31日之前，=100%", "=", 100, "%", "12月31日之前，"),
]


@pytest.mark.parametrize("raw,op,num,unit,when", PUBLISHED)
def test_published_spellings(raw, op, num, unit, when):
    from perftables.core.value import unit_key
    v = parse(raw)
    assert (v.kind, v.op, v.num, unit_key(v.unit), v.when) == ("quant", op, num, unit, when)
    assert v.render() == raw


def test_dates_with_a_day_are_deadlines():
    for raw in ("2026年11月30日前", "2025-12-31", "2025.12.31", "2025年12月31日"):
        v = parse(raw)
        assert (v.kind, v.op, v.date) == ("date", "≤", (int(raw[:4]), 12 if "12" in raw[4:] else 11)), raw
        assert v.render() == raw
    assert parse("高于全省平均水平").kind == "qual"      # a sign word without a number is a sentence


def test_published_spellings_round_trip_and_score(tmp_path, small_unit):
    """Typed by a clerk into the template's value cell, collected back, printed exactly as written, and
    scored at year end against an actual written with the other spelling of its unit."""
    from perftables.cycle.collect import collect
    from perftables.model.scoring import Rules, quant_score
    from perftables.core.value import same_unit
    from conftest import make_workbook
    rows = [{"level1": "产出指标", "level2": "数量指标", "name": f"指标{i}", "num": raw, "basis": "年度工作计划"}
            for i, (raw, *_) in enumerate(PUBLISHED)]
    fill = {"projects": {"项目1": {"fields": {"goal": "1.开展科普活动"}, "indicators": rows}}}
    (tmp_path / "a.xlsx").write_bytes(make_workbook(small_unit, fill=fill))
    ret = collect([tmp_path / "a.xlsx"]).returns[0]
    got = [i.value for i in ret.projects[0].indicators]
    assert [v.render() for v in got] == [raw for raw, *_ in PUBLISHED]
    assert [(v.op, v.num) for v in got] == [(op, num) for _, op, num, *_ in PUBLISHED]
    about_values = [f for f in ret.findings if f.cell and f.cell[0] in "EFG" and f.sheet == "项目1"]
    assert not about_values, [(f.cell, f.rule, f.message) for f in about_values]
    v = parse("≥100百分比")
    assert same_unit(parse("98%").unit, v.unit)
    assert quant_score(v.op, v.num, 98, 10, Rules()) == 9.8


def test_a_value_says_its_kind_as_a_member_and_prints_its_chinese_name():
    from perftables.core.value import ValueKind
    cases = {"≥95%": ValueKind.QUANT, "2025年11月底前": ValueKind.DATE, "显著提升": ValueKind.QUAL,
             "是否按时完成": ValueKind.QUESTION, "%": ValueKind.PLACEHOLDER, None: ValueKind.EMPTY}
    for raw, kind in cases.items():
        assert parse(raw).kind is kind, raw
    assert [k.title for k in ValueKind] == ["定量", "定量（时限）", "定性", "问句", "占位符", "空"]
    assert f"{ValueKind.QUANT}" == "quant"   # as the signed stamp's JSON and the tests write it
