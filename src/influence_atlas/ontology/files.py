"""Reading ontology files: YAML with errors that name the file, pattern lists compiled with errors that name the
entry, the user's extra files, and one fingerprint over every file that changes what analysis finds."""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable, Hashable, Iterable

import yaml

from ..errors import OntologyError

PACKAGE_DIR = Path(__file__).resolve().parent
# libyaml's parser when PyYAML has it (the same mappings, about seven times faster on the ontology's 340 KB: 0.5 ->
# 0.07 CPU-s each analysis), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, what: str) -> dict:
    """Return the mapping at the top of a YAML file; OntologyError naming the file when it is missing, unreadable,
    not YAML, or not a mapping."""
    return read_yaml_bytes(path, what)[1]


def read_yaml_bytes(path: Path, what: str) -> tuple[bytes, dict]:
    """Return a YAML file's bytes (for a fingerprint) and the mapping at its top; errors as read_yaml."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise OntologyError(f"{path}: {what} file not found") from None
    except OSError as exc:
        raise OntologyError(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
    try:
        data = yaml.load(raw, Loader=_LOADER)  # noqa: S506 - a safe loader (libyaml's or PyYAML's)
    except yaml.YAMLError as exc:
        raise OntologyError(f"{path}: {what} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise OntologyError(f"{path}: expected a mapping at the top of the {what} file")
    return raw, data


def check_entry(path: Path, section: str, index: int, item: object, label: str, key: str = "name",
                choices: tuple[str, ...] | None = None, fields: set[str] | None = None) -> str:
    """Check one entry of a list in an ontology file: a mapping whose `key` is a non-empty string (one of `choices`
    when given) and whose fields are all among `fields` (when given). Return where the entry is, for the caller's
    own errors ("FILE: event type 'coup'"); OntologyError naming the file and the entry otherwise."""
    where = f"{path}: {section}[{index}]"
    if not isinstance(item, dict):
        raise OntologyError(f"{where}: expected a mapping, got {type(item).__name__}")
    value = item.get(key)
    if choices is not None and value not in choices:
        raise OntologyError(f"{where}: '{key}' must be one of {', '.join(choices)}")
    if not isinstance(value, str) or not value.strip():
        raise OntologyError(f"{where}: '{key}' is required")
    where = f"{path}: {label} '{value}'"
    unknown = set(item) - fields if fields is not None else set()
    if unknown:
        raise OntologyError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    return where


# The whole-word frame `compile_words` and the ontology loaders put around a pattern.
_WORD_START, _WORD_END = r"(?<!\w)", r"(?!\w)"


def alternation(where: str, patterns: object) -> str:
    """Return the regular-expression source `(?:(?:p1)|(?:p2)|...)` of a non-empty list of patterns (no word
    boundaries of its own); OntologyError naming `where` and the bad pattern otherwise."""
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p.strip() for p in patterns):
        raise OntologyError(f"{where}: expected a non-empty list of patterns")
    body = "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"
    try:
        # Checked in the whole-word frame (valid exactly when the body is): `compile_words` then finds it compiled
        # in the re module's cache instead of compiling the expression a second time.
        re.compile(_WORD_START + body + _WORD_END, re.I)
    except re.error:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise OntologyError(f"{where}: bad pattern {p!r} ({exc})") from None
        raise OntologyError(f"{where}: the patterns do not combine into one expression") from None
    return body


def language_alternation(where: str, table: object) -> str:
    """Return the `alternation` of every language's patterns in a mapping of language to pattern list."""
    if not isinstance(table, dict) or not table:
        raise OntologyError(f"{where}: expected a mapping of language to a list of patterns")
    patterns: list = []
    for lang, items in table.items():
        if not isinstance(items, list):
            raise OntologyError(f"{where}: patterns for '{lang}' must be a list of non-empty strings")
        patterns += items
    return alternation(where, patterns)


def compile_words(where: str, patterns: object, wrap: bool = True) -> re.Pattern:
    """Return one case-insensitive pattern matching any of `patterns` (as whole words when `wrap`); OntologyError
    naming `where` and the bad pattern otherwise."""
    body = alternation(where, patterns)
    return re.compile(_WORD_START + body + _WORD_END if wrap else body, re.I)


# A reference to a group (`\1`, `(?P=name)`, `(?(1)...)`) would point elsewhere once patterns are joined.
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


@lru_cache(maxsize=None)
def any_of(patterns: tuple[re.Pattern, ...]) -> re.Pattern | None:
    """Return one pattern whose `search` finds something in a text whenever one of `patterns` matches somewhere in
    it (their alternation), or None when they cannot be joined faithfully (different flags, verbose mode, a group
    reference). A screen in front of a loop over many patterns: a text it finds nothing in needs no loop, and the
    loop's own matches are unchanged; one regular-expression scan instead of one per pattern. Patterns that all sit
    in the whole-word frame share one frame, so the scan tests it once per position, not once per pattern."""
    flags = {p.flags for p in patterns}
    if not patterns or len(flags) != 1 or re.VERBOSE & next(iter(flags)) or not all(isinstance(p.pattern, str) for p in patterns):
        return None
    sources = [p.pattern for p in patterns]
    if any(_GROUP_REFERENCE.search(p) for p in sources):
        return None
    inner = [p[len(_WORD_START):-len(_WORD_END)] for p in sources if p.startswith(_WORD_START) and p.endswith(_WORD_END)]
    if len(inner) == len(sources) and all(_one_group(p) for p in inner):
        joined = _WORD_START + "(?:" + "|".join(inner) + ")" + _WORD_END
    else:
        joined = "|".join(f"(?:{p})" for p in sources)
    try:
        return re.compile(joined, patterns[0].flags)
    except re.error:  # e.g. a global inline flag, allowed only at the start of a pattern
        return None


_SCREENS: dict[tuple[int, Hashable], tuple[object, re.Pattern | None]] = {}


def screen_of(owner: object, key: Hashable, patterns: Callable[[], Iterable[re.Pattern]]) -> re.Pattern | None:
    """Return `any_of(patterns())` for a loaded table `owner` (a stance lexicon, the event types, a narrative taxonomy)
    and a `key` such as a language, built on the first call and kept for the process: a caller screening every
    sentence then neither gathers the patterns nor hashes them again. The memo holds `owner`, so its identity
    cannot pass to another table."""
    slot = (id(owner), key)
    held = _SCREENS.get(slot)
    if held is None or held[0] is not owner:
        held = _SCREENS[slot] = (owner, any_of(tuple(patterns())))
    return held[1]


def _one_group(source: str) -> bool:
    """Return whether a pattern's source is one parenthesised group from its first character to its last (so that
    it can stand between other elements unchanged: no alternation of its own at the top)."""
    depth, i = 0, 0
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 1  # the escaped character
        elif c == "[":  # a character class: skip to its end ("]" first, or after "^", is a member)
            i += 2 if source[i + 1 : i + 2] == "^" else 1
            i += 1 if source[i : i + 1] == "]" else 0
            while i < len(source) and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0 and i != len(source) - 1:
                return False
        elif depth == 0:
            return False  # something outside the first group
        i += 1
    return depth == 0 and source.startswith("(")


def user_files(packaged: Path, variable: str, extra: Iterable[str] = ()) -> tuple[Path, ...]:
    """Return the packaged file followed by the user's files: those in $`variable` (os.pathsep-separated), then `extra`."""
    env = tuple(p for p in os.environ.get(variable, "").split(os.pathsep) if p)
    return (packaged,) + tuple(Path(p) for p in env + tuple(extra))


def packaged_files() -> tuple[Path, ...]:
    """Return every ontology file shipped in the package, sorted by name."""
    return tuple(sorted(PACKAGE_DIR.glob("*.yaml")))


def fingerprint(paths: Iterable[Path], parts: Iterable[str] = ()) -> str:
    """Return a short hash of the files' names and bytes (a missing file counts as missing) and of the extra `parts`."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
        digest.update(b"\0")
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def merge_sections(paths: Iterable[Path], what: str, sections: tuple[str, ...], words: tuple[str, ...] = (),
                   others: tuple[str, ...] = ()) -> dict[str, dict[str, list[str]]]:
    """Return section → language → patterns merged from a packaged file (the first path: every section required) and
    the user's files (any sections; their patterns are appended). Sections named in `words` hold single words, not
    patterns; sections in `others` are allowed and left to the caller. OntologyError naming the file, section and
    entry otherwise."""
    merged: dict[str, dict[str, list[str]]] = {s: {} for s in sections}
    for i, path in enumerate(paths):
        data = read_yaml(path, what)
        known = (*sections, *others)
        unknown = set(data) - set(known) - {"version"}
        if unknown:
            raise OntologyError(f"{path}: unknown section(s) {', '.join(sorted(map(str, unknown)))}; the sections are {', '.join(known)}")
        missing = [s for s in known if s not in data]
        if i == 0 and missing:
            raise OntologyError(f"{path}: missing section(s) {', '.join(missing)}")
        for section in sections:
            if section in data:
                for lang, items in languages_of(f"{path}: {section}", data[section]).items():
                    merged[section].setdefault(lang, []).extend(check_patterns(f"{path}: {section}.{lang}", items, section in words))
    return merged


def languages_of(where: str, value: object) -> dict:
    """Return a section's mapping of language code to its entries; OntologyError naming `where` otherwise."""
    if not isinstance(value, dict) or not value or not all(isinstance(k, str) for k in value):
        raise OntologyError(f"{where}: expected a mapping of language code (en, fr, ...) to its entries")
    return value


def check_patterns(where: str, items: object, words: bool = False) -> list[str]:
    """Return a list of patterns (of single words when `words`) that compile and capture nothing (the code numbers its
    own groups); an empty list says the language has none. OntologyError naming `where` and the bad entry otherwise."""
    if items == []:
        return []
    body = alternation(where, items)
    # The alternation's groups are its patterns' (it adds none of its own), and `alternation` has just compiled it in
    # the whole-word frame (the re module's cache holds it): only a list with a group compiles its patterns one by one.
    grouped = re.compile(_WORD_START + body + _WORD_END, re.I).groups > 0
    for item in items:  # type: ignore[union-attr]
        if words and not re.fullmatch(r"\w+", item):
            raise OntologyError(f"{where}: {item!r} must be one word")
        if grouped and re.compile(item).groups:
            raise OntologyError(f"{where}: pattern {item!r} has a capturing group; use (?:...)")
    return list(items)  # type: ignore[call-overload]


def joined(table: dict[str, list[str]], languages: Iterable[str] | None = None) -> str:
    """Return one alternation (no boundaries of its own) of a merged section's patterns, every language's unless
    `languages` names some, in the files' order; `(?!)`, matching nothing, when there are none."""
    keep = None if languages is None else set(languages)
    patterns = [p for lang, pats in table.items() if keep is None or lang in keep for p in pats]
    return alternation("patterns", patterns) if patterns else "(?!)"


def words_of(table: dict[str, list[str]]) -> frozenset[str]:
    """Return every language's words of a merged word section."""
    return frozenset(w for pats in table.values() for w in pats)
