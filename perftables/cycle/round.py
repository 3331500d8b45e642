"""The round: one folder holding a round of budget-performance tables from start to publication.

    青溪县2025目标/
      设置.toml            every setting of the round (cycle.settings), commented in Chinese
      名单.csv             the roster (copied in by init)
      签名密钥.key          the round's signing key (made by init, or adopted with --key)
      本轮状态.sqlite       the state: every version received, every finding, every decision (cycle.state)
      1-下发/  2-收件箱/  3-待处理/  4-退改/  5-汇总/  6-公开/

Commands run inside the folder (or given --round) take everything from it. The key of a round is the
round's: nothing but `init` (or `perftables key new`) ever makes one."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..core.dates import chinese, parse_date
from ..core.errors import PerftablesError
from ..core.files import write_text
from ..forms.form import load_form
from ..io import keys
from ..model.roster import read_roster
from .settings import SETTINGS_NAME, Settings, read_settings, settings_text, SPEC
from .state import STATE_NAME, StateStore

TEMPLATES, INBOX, HELD, FEEDBACK, SUMMARY, PUBLIC = "1-下发", "2-收件箱", "3-待处理", "4-退改", "5-汇总", "6-公开"
FOLDERS = (TEMPLATES, INBOX, HELD, FEEDBACK, SUMMARY, PUBLIC)
SUMMARY_NAME = "汇总.xlsx"
KEY_NAME = keys.KEY_NAME
EXAMPLE_KEY_ID = keys.EXAMPLE_KEY_ID


class RoundError(PerftablesError):
    """A round folder cannot be made or used (a Chinese message)."""


@dataclass
class Round:
    folder: Path
    settings: Settings

    @classmethod
    def load(cls, folder) -> "Round":
        folder = Path(folder)
        if not (folder / SETTINGS_NAME).is_file():
            raise RoundError(f"“{folder}”不是本轮文件夹（里面没有 {SETTINGS_NAME}；用 perftables init 建立一轮）")
        return cls(folder, read_settings(folder / SETTINGS_NAME))

    # -------------------------------------------------------------------------------- places

    @property
    def templates(self) -> Path:
        return self.folder / TEMPLATES

    @property
    def inbox(self) -> Path:
        return self.folder / INBOX

    @property
    def held(self) -> Path:
        return self.folder / HELD

    @property
    def feedback(self) -> Path:
        return self.folder / FEEDBACK

    @property
    def summary(self) -> Path:
        return self.folder / SUMMARY / SUMMARY_NAME

    @property
    def export(self) -> Path:
        return self.folder / SUMMARY / "导出"

    @property
    def public(self) -> Path:
        return self.folder / PUBLIC

    @property
    def key_path(self) -> Path:
        return self.folder / KEY_NAME

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_NAME

    @property
    def roster_path(self) -> Path:
        return self.settings.file("roster")

    # -------------------------------------------------------------------------------- what it says

    @property
    def year(self) -> int:
        return self.settings.year

    @property
    def kind(self):
        return load_form(self.settings.form).kind

    @property
    def title(self) -> str:
        return self.settings.title or f"{self.year}年{self.kind.title}"

    @property
    def deadline_text(self) -> str:
        return chinese(self.settings.deadline)

    def roster(self):
        path = self.roster_path
        if not path.is_file():
            raise RoundError(f"本轮名单“{path}”不存在（设置.toml 的 [round] roster）")
        return read_roster(path)

    def store(self) -> StateStore:
        return StateStore(self.state_path)

    def ledger(self, store: StateStore):
        """The round's ledger (its events and decisions in the state), with the round's deadline."""
        from .ledger import LEDGER_NAME, Ledger
        due = self.settings.deadline.isoformat() if self.settings.deadline else ""
        return Ledger.of_round(store, due=due, old_json=self.summary.parent / LEDGER_NAME)

    def options_for(self, command: str) -> dict:
        """What a command takes from the round when not given: its options by their names in the CLI."""
        s = self.settings
        common = {"roster": str(self.roster_path), "year": self.year, "contact": s["contact"]}
        deadline = self.deadline_text
        by_command = {
            "generate": {**common, "outdir": str(self.templates), "form_id": s.form, "taxonomy": s["taxonomy"],
                         "password": s["password"], "deadline": deadline,
                         "department": _text(s.file("department"))},
            "selfeval": {**common, "targets": (_text(s.file("targets")),) if s["targets"] else (),
                         "outdir": str(self.templates), "form_id": s.form, "password": s["password"],
                         "deadline": deadline, "execution": _text(s.file("execution"))},
            "collect": {**common, "inbox": (str(self.inbox),), "output": str(self.summary),
                        "export_dir": str(self.export), "feedback_dir": str(self.feedback), "deadline": deadline},
            "mail": {**common, "outdir": str(self.templates), "deadline": deadline or None,
                     "sender": s["mail.sender"], "from_name": s["mail.sender_name"], "smtp": s["mail.smtp"],
                     "port": s["mail.port"] or None, "security": s["mail.security"], "user": s["mail.user"] or None,
                     "interval": s["mail.interval"], "feedback_dir": str(self.feedback)},
            "fetch": {"roster": str(self.roster_path), "outdir": str(self.inbox), "host": s["fetch.imap"],
                      "port": s["fetch.port"] or None, "security": s["fetch.security"], "user": s["fetch.user"],
                      "folder": s["fetch.folder"], "since": s["fetch.since"]},
            "publish": {**common, "inbox": (str(self.inbox),), "outdir": str(self.public)},
            "approve": {"summary": str(self.summary.parent)},
        }
        return {k: v for k, v in by_command.get(command, {}).items() if v not in (None, "", ())}

    def key(self) -> keys.Key:
        """The round's key; refused when missing (never made here) or when it is the public example key."""
        path = self.key_path
        if not path.is_file():
            raise keys.KeyError_(
                f"本轮的签名密钥“{path}”不见了。它只在建立本轮时生成一次，本轮下发的模板都用它签名；"
                f"请从备份把“{KEY_NAME}”复制回本轮文件夹（另一台电脑：复制整个本轮文件夹）。"
                "不会生成新的密钥：新密钥会让本轮所有已下发的模板都无法核验")
        key = keys.load_key(path=path)
        if key.id == EXAMPLE_KEY_ID:
            raise keys.KeyError_(f"“{path}”是公开的示例密钥（随软件发布，任何人都能用它伪造标识），"
                                 "只能用于演示，不能用于正式的一轮。请用 perftables init 建立新的一轮")
        return key

    def using_key(self):
        """Within the block, every signature and check uses the round's key (worker processes too)."""
        self.key()
        return keys.using(self.key_path)


def _text(path) -> str:
    return str(path) if path else ""


def find_round(explicit=None, start=None) -> Round | None:
    """The round a command runs in: the folder given (--round), else the current folder or one above it that
    holds 设置.toml; None outside any round."""
    if explicit:
        return Round.load(explicit)
    here = Path(start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_NAME).is_file():
            return Round.load(folder)
    return None


def init_round(folder, year: int, form: str, roster, title: str = "", issuer: str = "", deadline=None,
               contact: str = "", key=None, taxonomy: str = "", files: dict | None = None) -> Round:
    """Make a round folder: settings, roster, key (new, or adopted from `key`), state, the cycle's folders.
    files: the round's other inputs by setting (targets, execution, department), kept relative to the folder.
    Refuses a folder that already holds files; checks everything before writing anything."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise RoundError(f"“{folder}”已存在且不是空文件夹：请给一个新的文件夹名（一轮一个文件夹）")
    load_form(form)
    read_roster(roster)                                 # a roster with a mistake: said before anything
    adopted = _adopt_key(key) if key else None
    values = {(s.section, s.key): s.default for s in SPEC}
    values.update({("round", "year"): year, ("round", "form"): form, ("round", "title"): title,
                   ("round", "issuer"): issuer, ("round", "contact"): contact, ("round", "taxonomy"): taxonomy,
                   ("round", "deadline"): parse_date(deadline) if deadline else None,
                   ("round", "roster"): "名单" + Path(roster).suffix.lower()})
    for name, path in (files or {}).items():
        if path:
            if not Path(path).exists():
                raise RoundError(f"--{name} 给出的“{path}”不存在")
            values[("round", name)] = _relative(Path(path), folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in FOLDERS:
        (folder / name).mkdir(exist_ok=True)
    shutil.copyfile(roster, folder / values[("round", "roster")])
    if adopted is not None:
        shutil.copyfile(adopted.path, folder / KEY_NAME)
    else:
        keys.new_key(folder / KEY_NAME)
    write_text(folder / SETTINGS_NAME, settings_text(values))
    rnd = Round.load(folder)
    with rnd.store() as store:
        store.set_meta("key_id", rnd.key().id)
    return rnd


def _relative(path: Path, folder: Path) -> str:
    """A path as the settings keep it: relative to the round folder when it can be (the round moves whole)."""
    import os
    try:
        return Path(os.path.relpath(path.absolute(), folder.absolute())).as_posix()
    except ValueError:   # another drive (Windows)
        return str(path.absolute())


def _adopt_key(path) -> keys.Key:
    path = Path(path)
    if not path.is_file():
        raise RoundError(f"--key 给出的签名密钥文件“{path}”不存在")
    key = keys.load_key(path=path)
    if key.id == EXAMPLE_KEY_ID:
        raise RoundError(f"“{path}”是公开的示例密钥（任何人都能用它伪造标识），不能用于正式的一轮；"
                         "不给 --key，init 会为本轮生成新的密钥")
    return key


def backup_advice(rnd: Round) -> list[str]:
    """What init prints (and the manual says): how to keep the round safe, what a second PC needs."""
    return [f"备份：整个本轮文件夹“{rnd.folder}”就是本轮的全部（设置、名单、签名密钥、每个版本和每个决定）；"
            "每周把它复制到 U 盘或单位的备份位置一次（复制前关掉正在运行的命令）。",
            f"签名密钥“{rnd.key_path.name}”只在这里生成一次：丢了它，本轮已下发的模板都无法核验。"
            "不要把它发给填表单位。",
            "换一台电脑（或第二台电脑）：把整个本轮文件夹复制过去，在里面运行命令即可；"
            "不要两台电脑同时在网络共享上操作同一个本轮文件夹。"]
