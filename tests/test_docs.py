"""The manual and README say what the code does: the clerks' page of messages is the rule catalogue, every page
is in the manual's table of contents, README is one screen with exactly the two set-up commands."""
import re
from pathlib import Path

from perftables.model.rules import RULES, catalogue_markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_the_clerks_messages_page_is_the_rule_catalogue():
    page = (DOCS / "clerks" / "messages.md").read_text(encoding="utf-8")
    assert page == catalogue_markdown(), (
        "docs/clerks/messages.md is stale: python -c \"from perftables.model.rules import catalogue_markdown as m; "
        "open('docs/clerks/messages.md','w').write(m())\"")
    for rule, (rid, how) in RULES.items():
        assert f"| {rid} | {rule} | {how} |" in page


def test_every_page_is_in_the_table_of_contents():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", nav, re.M))
    assert pages == listed


def test_readme_is_one_screen_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert len(blocks) == 2 and all(b.count("\n") == 1 for b in blocks)
    assert "perftables demo" in blocks[0] and "pytest" in blocks[1] and "venv" in blocks[0] and "venv" in blocks[1]
    assert len(readme) < 3000
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1].strip() in ci, ".ci/run runs README's test command"
    assert "mkdocs build --strict" in ci and "lint-imports" in ci


def test_the_key_reference_is_the_checkers_schema():
    from perftables.forms.schema import keys_markdown
    page = (DOCS / "forms-keys.md").read_text(encoding="utf-8")
    assert page == keys_markdown(), ("docs/forms-keys.md is stale: python -c \"from perftables.forms.schema import "
                                     "keys_markdown as m; open('docs/forms-keys.md','w').write(m())\"")
    assert "| `sheet.grid.columns[].role` |" in page and "`adjusted`" in page


def test_the_settings_page_is_current():
    from perftables.cycle.settings import keys_markdown
    page = (ROOT / "docs" / "coordinator" / "settings.md").read_text(encoding="utf-8")
    assert page == keys_markdown(), ("docs/coordinator/settings.md is stale: python -c \"from perftables.cycle.settings "
                                     "import keys_markdown as m; open('docs/coordinator/settings.md','w').write(m())\"")
