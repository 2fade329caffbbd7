"""spaCy pipelines by language: only the components the analysis reads run, with the same results."""

from __future__ import annotations

import spacy

from influence_atlas.nlp import PIPELINES, load_pipeline
from influence_atlas.pipeline import ANALYSIS_NEEDS

TEXTS = {
    "en": "The Wagner Group arrived in Bamako in December 2021, officials in Paris said. Moscow denied it on Monday.",
    "fr": "Le groupe Wagner est arrivé à Bamako en décembre 2021, selon des responsables à Paris. Moscou a démenti lundi.",
}


def test_a_tok2vec_nobody_listens_to_is_not_loaded_and_changes_nothing():
    for language, text in TEXTS.items():
        nlp = load_pipeline(language, ANALYSIS_NEEDS)
        full = spacy.load(PIPELINES[language])
        listeners = set(full.get_pipe("tok2vec").listening_components)
        assert listeners and not listeners & set(ANALYSIS_NEEDS)
        assert set(nlp.component_names) == set(ANALYSIS_NEEDS)  # tok2vec, tagger, parser, lemmatizer ... not loaded
        with_tok2vec = spacy.load(PIPELINES[language], exclude=[c for c in full.component_names
                                                                if c not in {"tok2vec", *ANALYSIS_NEEDS}])
        for name in ANALYSIS_NEEDS:
            if name in with_tok2vec.disabled:
                with_tok2vec.enable_pipe(name)
        assert "tok2vec" in with_tok2vec.pipe_names
        a, b = nlp(text), with_tok2vec(text)
        assert [(e.start_char, e.end_char, e.label_) for e in a.ents] == [(e.start_char, e.end_char, e.label_) for e in b.ents]
        assert [s.text for s in a.sents] == [s.text for s in b.sents]
        assert a.ents  # the texts name actors and places: the comparison is not vacuous


def test_a_listened_tok2vec_stays_on():
    nlp = load_pipeline("en", ("ner", "parser"))
    assert {"tok2vec", "parser"} <= set(nlp.pipe_names)
    assert len(list(nlp(TEXTS["en"]).sents)) == 2
