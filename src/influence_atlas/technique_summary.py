"""How each source persuades and which operation tactics it describes: counts of persuasion techniques
(SemEval-2020 Task 11) and DISARM techniques per document or per publisher, behind `atlas techniques summary`."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlparse

from .errors import AtlasError
from .extract.techniques import TECHNIQUES
from .versions import TECHNIQUE_STATUS_TEXT, technique_status
from .store import Store

GROUPS = ("document", "source")
FORMATS = ("table", "csv", "json")
# Order in which statuses are listed.
STATUSES = ("analysed", "unsupported_language", "skipped", "not_analysed")


@dataclass(slots=True)
class SourceCounts:
    """One row of the summary: a document, or every document of one publisher, with its counts."""

    key: str
    label: str
    source: str
    documents: int = 0
    words: int = 0
    languages: Counter = field(default_factory=Counter)
    status: Counter = field(default_factory=Counter)
    techniques: Counter = field(default_factory=Counter)
    ttps: Counter = field(default_factory=Counter)

    def add(self, other: "SourceCounts") -> None:
        """Fold another row's counts into this one."""
        self.documents += other.documents
        self.words += other.words
        for mine, theirs in ((self.languages, other.languages), (self.status, other.status), (self.techniques, other.techniques),
                             (self.ttps, other.ttps)):
            mine.update(theirs)

    def status_text(self) -> str:
        """Return the techniques status: one word when every document shares it, else `status:count` pairs."""
        found = [s for s in STATUSES if self.status[s]]
        if len(found) == 1:
            return found[0]
        return ";".join(f"{s}:{self.status[s]}" for s in found)

    def to_dict(self, group: str) -> dict:
        """Return the row as JSON-ready data."""
        head = {"document": self.label, "id": self.key, "source": self.source} if group == "document" else {"source": self.label}
        return {
            **head, "documents": self.documents, "words": self.words, "languages": dict(sorted(self.languages.items())),
            "techniques_status": {s: self.status[s] for s in STATUSES if self.status[s]},
            "techniques_total": sum(self.techniques.values()), "techniques": dict(sorted(self.techniques.items())),
            "ttps_total": sum(self.ttps.values()), "ttps": dict(sorted(self.ttps.items())),
        }


@dataclass(slots=True)
class TechniqueSummary:
    """Per-row counts, the technique and DISARM names they use, and the corpus totals."""

    group: str
    rows: list[SourceCounts]
    techniques: tuple[str, ...]
    disarm: dict[str, str]
    totals: SourceCounts

    def notes(self) -> list[str]:
        """Return one line per kind of document whose techniques were not looked for, saying why and what to do."""
        out = []
        for status in STATUSES[1:]:
            n = self.totals.status[status]
            if not n:
                continue
            text = TECHNIQUE_STATUS_TEXT[status]
            if status == "unsupported_language":
                langs = Counter()
                for row in self.rows:
                    if row.status[status]:
                        langs.update({lang: c for lang, c in row.languages.items() if lang != "en"})
                text += f" (languages: {', '.join(f'{k} {v}' for k, v in sorted(langs.items())) or '?'})"
            out.append(f"{n} document(s): {text}")
        return out

    def to_dict(self) -> dict:
        """Return the summary as JSON-ready data: rows, totals, names and notes."""
        return {
            "group": self.group, "techniques": list(self.techniques), "disarm": dict(sorted(self.disarm.items())),
            "rows": [r.to_dict(self.group) for r in self.rows], "totals": self.totals.to_dict("source"), "notes": self.notes(),
        }

    def csv_text(self) -> str:
        """Return the summary as CSV: one row per document or source, one column per technique and DISARM technique."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        head = ["document", "id", "source"] if self.group == "document" else ["source"]
        disarm = sorted(self.disarm)
        writer.writerow(head + ["documents", "languages", "words", "techniques_status", "techniques_total", *self.techniques,
                                "ttps_total", *disarm])
        for r in self.rows:
            first = [r.label, r.key, r.source] if self.group == "document" else [r.label]
            writer.writerow(first + [r.documents, ";".join(sorted(r.languages)), r.words, r.status_text(),
                                     sum(r.techniques.values()), *(r.techniques[t] for t in self.techniques),
                                     sum(r.ttps.values()), *(r.ttps[d] for d in disarm)])
        return buf.getvalue()

    def json_text(self) -> str:
        """Return the summary as indented JSON."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def source_of(meta: dict) -> str:
    """Return the publisher a document comes from: its outlet, else its web site, else its file or record name."""
    if meta.get("outlet"):
        return str(meta["outlet"])
    host = urlparse(meta.get("url") or "").hostname or ""
    if host:
        return host[4:] if host.startswith("www.") else host
    return str(meta.get("name") or meta.get("id"))


def summarize_techniques(store: Store, group: str = "document") -> TechniqueSummary:
    """Return the counts of persuasion techniques and DISARM techniques per document (or per source), with totals."""
    if group not in GROUPS:
        raise AtlasError(f"unknown grouping '{group}'; choose one of: {', '.join(GROUPS)}")
    per_doc: dict[str, SourceCounts] = {}
    for meta in store.document_metadata():
        row = SourceCounts(key=meta["id"], label=meta["name"], source=source_of(meta), documents=1, words=meta["words"] or 0)
        row.languages[meta["language"] or "?"] += 1
        row.status[technique_status(meta["language"], meta["analysis_version"])] += 1
        per_doc[meta["id"]] = row
    seen_techniques: set[str] = set()
    for doc, technique, n in store.technique_counts():
        if doc in per_doc:
            per_doc[doc].techniques[technique] += n
            seen_techniques.add(technique)
    disarm: dict[str, str] = {}
    for doc, disarm_id, name, n in store.ttp_counts():
        if doc in per_doc:
            per_doc[doc].ttps[disarm_id] += n
            disarm.setdefault(disarm_id, name)
    if group == "document":
        rows = list(per_doc.values())
    else:
        by_source: dict[str, SourceCounts] = {}
        for row in per_doc.values():
            by_source.setdefault(row.source, SourceCounts(key=row.source, label=row.source, source=row.source)).add(row)
        rows = [by_source[k] for k in sorted(by_source)]
    totals = SourceCounts(key="", label="all", source="all")
    for row in per_doc.values():
        totals.add(row)
    # The task's 14 classes in its order, then any other label a newer model uses.
    names = TECHNIQUES + tuple(sorted(seen_techniques - set(TECHNIQUES)))
    return TechniqueSummary(group=group, rows=rows, techniques=names, disarm=disarm, totals=totals)
