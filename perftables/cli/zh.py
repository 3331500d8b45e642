"""click's own messages in Chinese.

click looks its texts up through gettext (`_` and `ngettext`, bound in each of its modules);
`chinese()` rebinds those names to this table while a perftables command runs, and puts them back
after. A text not in the table is shown as click wrote it — tests/test_safety.py checks that every
text click can show is in the table.
Values click fills in (option, argument, integer…) are translated as they are formatted.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

MESSAGES = {
    "Aborted!": "已中断。",
    "Missing command.": "缺少命令。",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",     # click ≥ 8.5
    "Usage:": "用法：",
    "deprecated": "已停用",
    "Value must be an iterable.": "值必须是一组。",
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "(dynamic)": "（动态）",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不提示，直接确认。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Show the version and exit.": "显示版本后退出。",
    "Show this message and exit.": "显示本帮助后退出。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "unknown error": "未知错误",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Could not open file {filename!r}: {message}": "无法打开文件“{filename}”：{message}",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用“{command} {option}”查看帮助。",
    "No such option {name!r}.": "没有选项“{name}”。",
    "No such command {name!r}.": "没有命令“{name}”。",
    "Invalid start character for option ({option})": "选项的开头字符无效（{option}）",
    "Option {name!r} does not take a value.": "选项“{name}”不带值。",
    "Argument {name!r} takes {nargs} values.": "参数“{name}”需要 {nargs} 个值。",
    "Press any key to continue...": "按任意键继续……",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Choice({choices})": "可选({choices})",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是有效的是/否值，可用：{states}",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的{number_type}。",
    "{value!r} is not a valid UUID.": "“{value}”不是有效的 UUID。",
    "{name} {filename!r} is a file.": "{name}“{filename}”是一个文件。",
    "{name} {filename!r} is a directory.": "{name}“{filename}”是一个文件夹。",
    "{name} {filename!r} is not readable.": "{name}“{filename}”不可读。",
    "{name} {filename!r} is not writable.": "{name}“{filename}”不可写。",
    "{name} {filename!r} is not executable.": "{name}“{filename}”不可执行。",
    "{name} {filename!r} does not exist.": "{name}“{filename}”不存在。",
    "Windows error: {error}": "Windows 错误：{error}",
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
    "d": "d",
    "Unknown color {colour!r}": "未知颜色“{colour}”",
    "Unknown standard stream '{name}'": "未知的标准流“{name}”",
    "Couldn't detect Bash version, shell completion is not supported.": "无法判断 Bash 版本，不支持命令补全。",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以下版本不支持命令补全。",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": "提示：命令“{name}”已停用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "提示：{param_type}“{name}”已停用。{extra_message}",
    "Could not determine name for option with declarations {decls!r}": "无法确定选项名称：{decls}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?": "没有定义选项却给了名称（{name}）。",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": "参数只能有一个声明，实有 {length} 个：{decls}。",
    "Name '{name}' defined twice": "名称“{name}”定义了两次",
    "Boolean option {decl!r} cannot use the same flag for true/false.": "是/否选项“{decl}”的两个开关不能相同。",
    "required": "必填",     # shown as [required] in help; click passes it through _() as a variable
}

PLURALS = {
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 {len} 个。",
    "Did you mean {possibility}?": "是不是要用 {possibility}？",
    "Option {name!r} requires an argument.": "选项“{name}”需要一个值。",
    "{value!r} is not {choice}.": "“{value}”不是可选值：{choices}。",
    "{value!r} does not match the format {format}.": "“{value}”不符合格式 {formats}。",
    "{len_type} values are required, but {len_value} was given.": "需要 {len_type} 个值，实有 {len_value} 个。",
}

# words click fills into its texts
WORDS = {"option": "选项", "argument": "参数", "parameter": "参数", "integer": "整数", "float": "数字",
         "boolean": "是/否值", "text": "文字", "File": "文件", "Directory": "文件夹", "Path": "路径",
         "file": "文件", "directory": "文件夹", "path": "路径", "integer range": "整数", "float range": "数字",
         "datetime": "日期"}


class _Text(str):
    """A translated text whose format() also translates the words click fills in."""

    def format(self, *args, **kwargs):   # noqa: A003
        kwargs = {k: WORDS.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
        return str.format(self, *args, **kwargs)

    def __mod__(self, values):
        return str.__mod__(self, values)


def gettext(message: str) -> str:
    return _Text(MESSAGES.get(message, message))


def ngettext(singular: str, plural: str, n: int) -> str:
    if singular in PLURALS:
        return _Text(PLURALS[singular])
    return _Text(singular if n == 1 else plural)


TYPE_WORDS = (("StringParamType", "文字"), ("IntParamType", "整数"), ("IntRange", "整数"), ("FloatParamType", "数字"),
              ("FloatRange", "数字"), ("BoolParamType", "是/否"), ("DateTime", "日期"), ("UUIDParameterType", "UUID"))


@contextmanager
def chinese():
    """Within the block, click speaks Chinese: its modules' gettext names are rebound to this table, its
    types' names (the metavars help prints: TEXT, INTEGER RANGE…) are Chinese words. Everything is put back
    afterwards, so that another click program in the same process is not touched."""
    import click  # noqa: F401  (loads its modules)
    import click.core, click.decorators, click.exceptions, click.formatting, click.termui, click.types  # noqa
    saved = []
    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            for attr, ours in (("_", gettext), ("ngettext", ngettext)):
                theirs = getattr(module, attr, None)
                if theirs is not None and callable(theirs):
                    saved.append((module, attr, theirs))
                    setattr(module, attr, ours)
    for cls_name, word in TYPE_WORDS:
        cls = getattr(click.types, cls_name)
        saved.append((cls, "name", cls.__dict__["name"] if "name" in cls.__dict__ else None))
        cls.name = word
    try:
        yield
    finally:
        for owner, attr, value in reversed(saved):
            if value is None and attr == "name":
                delattr(owner, attr)
            else:
                setattr(owner, attr, value)
