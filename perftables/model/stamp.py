"""What a workbook's hidden stamp says, typed: the one place that knows the payload's keys.

The payload — the JSON the stamp sheet holds, signed and fingerprinted as it is — stays a dict wherever it is
kept (a file record, a return, the cache); code asks `Stamp.of(payload)` (or a record's `.stamp`) for what it
says, and writers make the dict with `Stamp(...).payload()`, which writes exactly the keys that are set, so a
stamp's fingerprint does not depend on which code made it."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.kinds import FormKind


@dataclass
class Stamp:
    form: str                          # the form description's id
    form_version: str | int
    year: int | None
    unit_code: str
    unit_name: str
    kind: FormKind = FormKind.PROJECT_TARGET
    taxonomy: str | None = None
    issue: int = 1                     # 1 for a template, 2… for each feedback round; 0: read from labels
    projects: list[dict] = field(default_factory=list)   # each with its sheet, seq and what the roster gave
    spares: list[str] = field(default_factory=list)      # the sheets for projects the roster did not list
    links: dict | None = None          # a self-evaluation's target: form, fingerprint, file, year
    key_id: str | None = None          # which signing key signed it
    stampless: bool = False            # no stamp: read from the table's labels
    tool: str | None = "perftables"

    @classmethod
    def of(cls, payload: dict | None) -> "Stamp":
        p = payload or {}
        return cls(form=p.get("form", ""), form_version=p.get("form_version", ""), year=p.get("year"),
                   unit_code=p.get("unit_code", ""), unit_name=p.get("unit_name", ""),
                   kind=FormKind(p.get("kind", FormKind.PROJECT_TARGET)), taxonomy=p.get("taxonomy"),
                   issue=p.get("issue", 1), projects=p.get("projects") or [], spares=p.get("spares") or [],
                   links=p.get("links"), key_id=p.get("key_id"), stampless=bool(p.get("stampless")),
                   tool=p.get("tool"))

    def payload(self) -> dict:
        """The dict the stamp sheet holds: the keys that are set, as every writer has always written them."""
        out = {"form": self.form, "form_version": self.form_version, "kind": self.kind, "taxonomy": self.taxonomy,
               "year": self.year, "unit_code": self.unit_code, "unit_name": self.unit_name, "issue": self.issue,
               "projects": self.projects, "spares": self.spares}
        if self.tool is not None:
            out["tool"] = self.tool
        if self.links:
            out["links"] = self.links
        if self.key_id is not None:
            out["key_id"] = self.key_id
        if self.stampless:
            out["stampless"] = True
        return out
