"""Reading the word files of the text layer (`metadata.yaml`, `boilerplate.yaml`): sections of patterns by language,
validated on load with errors that name the file and the section. (The text layer sits below the ontology package,
whose loaders it cannot use; these files hold only plain lists.)"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import OntologyError


@lru_cache(maxsize=8)
def word_sections(path: Path, sections: tuple[str, ...]) -> dict[str, str]:
    """Return each section of a word file as one alternation `a|b|...` of every language's patterns, in the file's
    order (no group or boundaries of its own); OntologyError naming the file and the section otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OntologyError(f"{path}: cannot read the word file: {exc}") from None
    if not isinstance(data, dict):
        raise OntologyError(f"{path}: expected a mapping of section to its words by language")
    unknown = sorted(set(map(str, data)) - set(sections) - {"version"})
    missing = [k for k in sections if k not in data]
    if unknown or missing:
        raise OntologyError(f"{path}: " + "; ".join(([f"missing section(s) {', '.join(missing)}"] if missing else [])
                                                   + ([f"unknown section(s) {', '.join(unknown)}"] if unknown else [])))
    out = {}
    for section in sections:
        table = data[section]
        if not isinstance(table, dict) or not table or not all(
                isinstance(v, list) and v and all(isinstance(w, str) and w for w in v) for v in table.values()):
            raise OntologyError(f"{path}: {section}: expected a mapping of language code to a non-empty list of patterns")
        for word in (w for v in table.values() for w in v):
            try:
                groups = re.compile(word).groups
            except re.error as exc:
                raise OntologyError(f"{path}: {section}: bad pattern {word!r} ({exc})") from None
            if groups:
                raise OntologyError(f"{path}: {section}: pattern {word!r} has a capturing group; use (?:...)")
        out[section] = "|".join(w for v in table.values() for w in v)
    return out
