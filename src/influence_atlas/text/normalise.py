"""Normalise raw document text: Unicode, spaces, joined hard breaks, dropped web boilerplate."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .wordfile import word_sections

# Space-like characters that web pages and PDFs scatter through text.
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000\t"), " ")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u2060\ufeff\u00ad"), None)

BOILERPLATE_FILE = Path(__file__).resolve().parent / "boilerplate.yaml"
_TERMINAL = re.compile(r"[.!?:;…\"”»)\]]$")


@dataclass(frozen=True, slots=True)
class _Boilerplate:
    skip_link: re.Pattern
    tracking_token: re.Pattern
    phrases: re.Pattern
    continues: re.Pattern


@lru_cache(maxsize=1)
def _boilerplate() -> _Boilerplate:
    """Return the patterns of page chrome built on the boilerplate words (recognised by what a line does on a web page,
    never by a site's wording)."""
    w = word_sections(BOILERPLATE_FILE, ("skip_links", "phrases", "platforms", "tracking_tokens", "continuing_words"))
    platforms = w["platforms"]
    return _Boilerplate(
        skip_link=re.compile(rf"\b(?:{w['skip_links']})\b", re.I),
        tracking_token=re.compile(rf"^(?:{w['tracking_tokens']})$", re.I),
        phrases=re.compile(rf"^\W*(?:{w['phrases']}|(?:{platforms})(?:\s*[|,/·•]\s*(?:{platforms}))+$)", re.I),
        continues=re.compile(rf"[,(\[–—-]$|\b(?:{w['continuing_words']})$", re.I),
    )


_WORD = re.compile(r"\w+(?:[’'-]\w+)*")
_WHITE_RUN = re.compile(r"\s+")


def normalise_text(raw: str) -> str:
    """Return the canonical text of a document: NFC, plain spaces, joined hard breaks, no boilerplate."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\u0085", "\n").translate(_SPACES).translate(_INVISIBLE)
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")
    # Composed after the removals: a control character between a letter and its accent must not keep them apart.
    text = unicodedata.normalize("NFC", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [re.sub(r" {2,}", " ", ln).strip() for ln in block.split("\n")]
        lines = [ln for ln in (_strip_boilerplate(ln) for ln in lines) if ln]
        if lines:
            paragraphs.append("\n".join(_join_hard_breaks(lines)))
    return unicodedata.normalize("NFC", "\n\n".join(paragraphs))


def _strip_boilerplate(line: str) -> str:
    """Drop a web-boilerplate line, or a tracking token glued to the start of one."""
    tokens = line.split()
    while tokens and _boilerplate().tracking_token.match(tokens[0]):
        tokens.pop(0)
    line = " ".join(tokens)
    if not line:
        return ""
    short = len(tokens) <= 12
    if short and (_boilerplate().skip_link.search(line) or _boilerplate().phrases.match(line)):
        return ""
    return line


def _join_hard_breaks(lines: list[str]) -> list[str]:
    """Join lines broken inside a sentence; keep breaks after headings and finished sentences.

    Runs in time linear in the text: a joined line grows as a list of pieces, and the checks read only its end."""
    out: list[list[str]] = [[lines[0]]]
    length = len(lines[0])
    for line in lines[1:]:
        if _is_continuation(out[-1][-1][-_TAIL:], length, line):
            out[-1].append(line)
            length += 1 + len(line)
        else:
            out.append([line])
            length = len(line)
    return [" ".join(pieces) for pieces in out]


# How much of the end of a line the continuation checks read: longer than any word they look for.
_TAIL = 40


def _is_continuation(prev_tail: str, prev_length: int, line: str) -> bool:
    if _TERMINAL.search(prev_tail):
        return False
    first = line[0]
    if first.islower() or first.isdigit() or _boilerplate().continues.search(prev_tail):
        return True
    # A long line that stops mid-sentence is wrapped text, not a heading.
    return prev_length >= 60 and not line.startswith(("#", "-", "*", "•"))


def document_id(text: str) -> str:
    """Return the sha256 hex digest of normalised text: the document's identity."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def count_words(text: str) -> int:
    """Return the number of word tokens in text."""
    return sum(1 for _ in _WORD.finditer(text))


def _fold_char(c: str) -> str:
    """Return one character folded: lower case, accents stripped, curly apostrophes straight (a ligature gives several)."""
    if c.isascii():
        return c.lower()
    d = unicodedata.normalize("NFKD", c)
    d = "".join(x for x in d if not unicodedata.combining(x))
    return d.replace("’", "'").replace("‘", "'").casefold()


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Return text folded character by character (as fold does, white space kept as it is) and, per folded
    character, its index in text."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    for i, c in enumerate(text):
        f = _fold_char(c)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where


def fold(s: str) -> str:
    """Return s case-folded with accents stripped, apostrophes unified and spaces collapsed.

    Each character is folded as fold_with_offsets folds it (tests/test_normalise.py checks this equals folding
    the whole string at once); fold then collapses white space, which offsets into the text cannot follow."""
    folded = s.lower() if s.isascii() else "".join(map(_fold_char, s))
    return _WHITE_RUN.sub(" ", folded).strip()


def name_key(name: str) -> str:
    """Return the form names are compared in: NFKC, folded (see fold), without a leading 'the'."""
    return re.sub(r"^the ", "", fold(unicodedata.normalize("NFKC", name or "")))


def slugify(s: str) -> str:
    """Return an ASCII slug of s, stable across runs."""
    return re.sub(r"[^a-z0-9]+", "-", fold(s)).strip("-") or "x"
