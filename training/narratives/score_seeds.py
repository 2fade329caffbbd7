"""Score stance and narratives against gold annotations (the seeds' format), with the gold README's rules.

    .venv/bin/python training/narratives/score_seeds.py [GOLD_DIR] [--corpus DIR] [--details]

Defaults: ../shared/corpus/gold and ../shared/corpus/seeds. Stance: sign agreement (|v| < 0.5
counts as 0) and mean absolute error per gold actor (a missing actor costs |gold| and a sign
miss). Narratives: precision, recall and F1 over (narrative, mode) pairs, overall and per mode.
The documents are analysed exactly as the pipeline does (spaCy sentences, linked mentions).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from influence_atlas.extract.actors import link_actors  # noqa: E402
from influence_atlas.extract.narratives import find_narratives  # noqa: E402
from influence_atlas.extract.stance import find_stances  # noqa: E402
from influence_atlas.nlp import parse  # noqa: E402
from influence_atlas.ontology import load_actor_catalog  # noqa: E402
from influence_atlas.pipeline import ANALYSIS_NEEDS, _sentence_spans, build_document  # noqa: E402
from influence_atlas.text.readers import Source  # noqa: E402


def mentions_and_sentences(doc):
    """Return (mentions, sentence spans) of a Document, made the way analyze_document makes them."""
    entities, sentences = [], []
    for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS):
        entities.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in sdoc.ents
                        if not all(t.is_stop or t.is_punct for t in e))
        sentences.extend(_sentence_spans(doc.text, offset, sdoc))
    mentions, _ = link_actors(doc.id, doc.text, entities, load_actor_catalog())
    return mentions, sentences


def sign(v: float) -> int:
    return 0 if abs(v) < 0.5 else (1 if v > 0 else -1)


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gold", nargs="?", default=str(REPO.parent / "shared" / "corpus" / "gold"))
    ap.add_argument("--corpus", default=None, help="folder of the documents (default: ../seeds beside the gold folder)")
    ap.add_argument("--details", action="store_true", help="print every actor's score and every narrative hit")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    gold_dir = Path(a.gold)
    corpus = Path(a.corpus) if a.corpus else gold_dir.parent / "seeds"
    st_sign = st_total = 0
    st_abs = 0.0
    counts = {m: [0, 0, 0] for m in ("endorsed", "reported")}
    started = time.time()
    for gpath in sorted(gold_dir.glob("*.json")):
        g = json.loads(gpath.read_text(encoding="utf-8"))
        if "doc" not in g:
            continue
        path = corpus / g["doc"]
        doc = build_document(Source(name=path.name, path=str(path), text=path.read_text(encoding="utf-8"),
                                    meta={"language": g.get("language")} if g.get("language") else {}))
        mentions, sentences = mentions_and_sentences(doc)
        stances = {s.actor: s for s in find_stances(doc.id, doc.text, sentences, mentions, doc.language)}
        hits = find_narratives(doc.id, doc.text, sentences, mentions, doc.language)
        if a.details:
            print(f"== {g['doc']} ({doc.language})")
        for actor, gv in g["stance"].items():
            st_total += 1
            got = stances.get(actor)
            if got is None:
                st_abs += abs(gv)
                ok = False
            else:
                st_abs += abs(got.score - gv)
                ok = sign(got.score) == sign(gv)
                st_sign += ok
            if a.details:
                print(f"  stance {actor:<22} gold={gv:+d} system={'-' if got is None else f'{got.score:+.2f}'} {'ok' if ok else 'WRONG'}")
        system = {(h.narrative, h.mode) for h in hits}
        for mode in ("endorsed", "reported"):
            want = {(n, mode) for n in g["narratives"][mode]}
            have = {x for x in system if x[1] == mode}
            counts[mode][0] += len(want & have)
            counts[mode][1] += len(have - want)
            counts[mode][2] += len(want - have)
            if a.details:
                print(f"  {mode:<8} gold={sorted(n for n, _ in want)} system={sorted(n for n, _ in have)}")
        if a.details:
            text = doc.text
            for h in hits:
                print(f"    {h.narrative} {h.mode} {h.score:.2f}: " + " | ".join(text[s:e][:110] for s, e in h.evidence[:3]))
    res = {"stance_sign_acc": round(st_sign / st_total, 3) if st_total else 0.0,
           "stance_mae": round(st_abs / st_total, 3) if st_total else 0.0}
    tot = [sum(counts[m][i] for m in counts) for i in range(3)]
    for name, c in list(counts.items()) + [("all", tot)]:
        p, r, f = prf(*c)
        res[f"narrative_{name}"] = {"p": round(p, 3), "r": round(r, 3), "f1": round(f, 3), "tp": c[0], "fp": c[1], "fn": c[2]}
    res["seconds"] = round(time.time() - started, 1)
    if a.json:
        print(json.dumps(res))
        return
    print(f"stance: sign accuracy {res['stance_sign_acc']:.3f}, MAE {res['stance_mae']:.3f} over {st_total} actor judgements")
    for name in ("endorsed", "reported", "all"):
        r = res[f"narrative_{name}"]
        print(f"narratives {name:<8}: P={r['p']:.3f} R={r['r']:.3f} F1={r['f1']:.3f} (tp={r['tp']} fp={r['fp']} fn={r['fn']})")


if __name__ == "__main__":
    main()
