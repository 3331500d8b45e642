"""The catalogue of review rules: each rule's id and what the unit does to fix it (怎么改).

A finding names its rule (Finding.rule); its id and its 怎么改 text come from here, once, and appear
beside the finding's own 说明 in the summary (审核问题), the CSV, the feedback workbook and its letter.
tests/test_review2.py checks that every rule the code can report has an entry.
"""
from __future__ import annotations

from dataclasses import dataclass

# rule → (id, 怎么改)
RULES: dict[str, tuple[str, str]] = {
    # structure and integrity of the file
    "结构被改动": ("S01", "请用下发的模板重新填写，不要删除、改名或增加工作表，不要删行"),
    "锁定单元格被改动": ("S02", "灰色格子是预填内容，请改回原值；如预填内容确有错误，请来电说明，由我们重新下发模板"),
    "无标识": ("S03", "请改用本次下发的模板填写（旧模板或自己录入的表无法核对预填内容）"),
    "标识签名": ("S04", "无需单位处理：协调人需在收表电脑上放置生成模板时的签名密钥"),
    "名单核对": ("S05", "无需单位处理：协调人核对名单（单位改名或项目变动时重新下发模板）"),
    "外部链接": ("S06", "把引用其他工作簿的公式改为直接填写数值（复制后“选择性粘贴—数值”），再保存发回"),
    "公式": ("S07", "删除公式，直接填写数值或文字（可复制后“选择性粘贴—数值”）"),
    "公式被改动": ("S08", "该格应为自动计算：请用下发的模板重新填写，不要在计算格里填数"),
    "隐藏内容": ("S09", "取消隐藏（右键“取消隐藏”），确认隐藏的内容是否需要；不需要的请删除内容而不是隐藏"),
    "数字格式": ("S10", "把数字改为阿拉伯数字、半角，直接填写数值（如 12，不要写“十二”“１２”）"),
    "未接受的修订": ("S12", "在 Word 中“审阅—接受—接受所有修订”（或逐条接受、拒绝），核对数字和文字无误后重新保存发回"),
    "看不见的字符": ("S11", "把该格内容删掉后重新输入（不要从网页或聊天软件复制）：其中有零宽空格或改变文字方向的字符，"
                           "打印出来与实际内容不同"),
    # required content and amounts
    "必填项为空": ("C01", "填写该项内容"),
    "预算数与分项不符": ("C02", "核对预算数与财政资金、其他资金，使预算数等于两者之和"),
    "资金用途与预算数不符": ("C03", "核对资金用途中写的金额，使其与项目预算数一致（或删去用途中的金额）"),
    "资金支出计划": ("C04", "按累计进度填写：各期在 0–100 之间、逐期不减少，最后一期为 100"),
    "资金合计不符": ("C05", "核对各项资金，使各项之和等于合计"),
    "收支合计不符": ("C06", "核对收入、支出各项，使各项之和等于合计、收入合计等于支出合计"),
    "合计不符": ("C07", "核对各项金额，使各项之和等于合计"),
    "占比与金额不符": ("C08", "占比由金额自动计算，请核对金额，不要手填占比"),
    "权重合计不符": ("C10", "调整各指标的权重，使合计等于表上规定的总数（如 100）"),
    "项目清单与支出不符": ("C09", "核对项目支出情况中的项目和金额，使特定目标类项目合计与“特定目标类项目支出”一致"),
    # indicators
    "缺少一级指标": ("I01", "补充该类一级指标（产出、效益、满意度等须齐全）"),
    "一级指标不在列表内": ("I02", "从下拉列表中选择一级指标"),
    "二级指标与一级不符": ("I03", "先选一级指标，再从下拉列表中选择属于它的二级指标"),
    "不在下拉列表内": ("I04", "从下拉列表中选择，不要粘贴"),
    "指标名称过长": ("I05", "精简三级指标名称，说明放在“绩效指标描述”中"),
    "指标值为占位符": ("I06", "填写具体的目标值（如“≥90%”“≤12万元”“按时完成”），不要填“%”“是/否”等"),
    "指标值不是目标值": ("I07", "把问句改为目标，如“是否按时完成”改为“按时完成”"),
    "缺少计量单位": ("I08", "在“单位”格中选择或填写计量单位"),
    "应为百分比": ("I09", "质量、满意度等比率类指标用百分比表示，单位填“%”"),
    "单位与指标不符": ("I10", "核对计量单位：计数（次数、人次）用次、人次等，比率（率、满意度）用“%”"),
    "成本指标无上限": ("I11", "成本类指标用“≤”表示上限"),
    "成本类指标无符号": ("I12", "成本类指标在符号格中选“≤”（越小越好）"),
    "百分比超过100": ("I13", "核对指标值，百分比一般不超过 100%"),
    "满意度目标偏低": ("I14", "满意度目标一般不低于 80%，请核实"),
    "宜量化": ("I15", "尽量改为可衡量的数值目标（如“≥95%”“≥3次”）"),
    "疑似错别字": ("I16", "核对并改正错别字"),
    "模板占位文字": ("I17", "把模板中的占位文字（XX、××、……、空括号）替换为实际内容"),
    "时效目标早于年度": ("I18", "把时效目标改为本预算年度内的日期"),
    "时效目标晚于年度": ("I19", "年度目标应在当年内完成，改为本年度内的日期"),
    "方向与符号不一致": ("I20", "核对指标方向和符号：正向指标用“≥”，反向指标（越小越好）用“≤”"),
    # self-evaluation
    "预算执行率": ("E01", "核对全年预算数和执行数"),
    "执行数超过预算": ("E02", "核对执行数，执行数不应超过全年预算数"),
    "执行率偏低未说明": ("E03", "在“实际完成情况”中说明预算执行率偏低的原因"),
    "批复指标被改动": ("E04", "批复的指标和年度指标值不能修改，请改回原值"),
    "实际完成值不可比": ("E05", "定量指标的实际完成值填数值（可带符号和单位，如 85、≥266米），单位与年度指标值一致；不适用的填“不适用”"),
    "定性指标未打分": ("E06", "在所选等级的分数区间内填写得分"),
    "得分超出等级区间": ("E07", "按所选等级的区间填写得分（达成 80%–100%，部分达成 60%–80%，未达成 60% 以下）"),
    "得分与复核不符": ("E08", "得分由公式计算，请不要改动；核对实际完成值和分值"),
    "分值合计不符": ("E09", "调整各指标分值，使同一类一级指标的分值合计等于该类权重"),
    "缺少偏差原因": ("E10", "在“偏差原因分析及改进措施”中说明未完成的原因和改进措施"),
    "超额完成": ("E11", "核实实际完成值；如确实大幅超额，说明原因（下年度目标可相应提高）"),
    "指标年中取消": ("E12", "确属年中经批准取消的，附上调整文件；否则填回调整后指标值并填写完成情况"),
    "指标值已调整": ("E13", "附上指标调整的批准文件；未经批准的，把调整后指标值改回批复的值"),
    "未设置该类指标": ("E14", "无需本表修改：下年度的绩效目标表请设置该类指标（如成本指标）"),
}


GROUPS = {"S": "文件的结构和完整性", "C": "必填内容和金额", "I": "绩效指标", "E": "自评"}


def catalogue_markdown() -> str:
    """The catalogue as the clerks' manual prints it (docs/clerks/messages.md is this text; a test checks)."""
    lines = ["# 审核意见是什么意思", "",
             "退改工作簿的“审核意见”页、问题单元格的批注和审核意见信里，每条意见都有一个规则编号。"
             "下表按编号列出每条规则和怎么改（由程序的规则目录生成，与程序说的一字不差）。", ""]
    for letter, title in GROUPS.items():
        lines += [f"## {title}", "", "| 编号 | 规则 | 怎么改 |", "|---|---|---|"]
        rows = sorted((rid, rule, how) for rule, (rid, how) in RULES.items() if rid.startswith(letter))
        lines += [f"| {rid} | {rule} | {how} |" for rid, rule, how in rows]
        lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True)
class Rule:
    """A review rule: its id (what outputs and tests name it by), its name (what a finding says when the form
    has no words of its own for it) and what the unit does about it."""
    id: str
    name: str
    fix: str


CATALOGUE: dict[str, Rule] = {name: Rule(rid, name, how) for name, (rid, how) in RULES.items()}
BY_ID: dict[str, Rule] = {r.id: r for r in CATALOGUE.values()}
NO_RULE = Rule("", "", "")


def rule_named(name: str) -> Rule:
    """The catalogue's rule of that exact name (NO_RULE for none: a finding made with the form's own words
    says its rule by id)."""
    return CATALOGUE.get(name, NO_RULE)


def by_id(rule_id: str) -> Rule:
    return BY_ID.get(rule_id, NO_RULE)


def lookup(rule: str) -> tuple[str, str]:
    """(id, 怎么改) of a rule by its exact name."""
    r = rule_named(rule)
    return r.id, r.fix


def rule_id(rule: str) -> str:
    return rule_named(rule).id


def fix(rule: str) -> str:
    return rule_named(rule).fix
