"""Stance: how a document leans toward each actor it discusses, from -2 (hostile) to +2 (favourable).

Evaluative words of the stance lexicon (`ontology/stance.yaml`) count toward the actor they are
said of, in the author's own voice only (`voice.py`): quoted, attributed and conceded words do
not count, hedged ones count less, negated ones flip and weaken. An actor attacked or invaded
by another gets a little sympathy. Per actor the weighted sum is squashed into [-2, 2], so
a few strong words give a clear lean and scattered neutral mentions keep it near zero.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..ontology import PLACE_KIND, load_actor_catalog
from ..ontology.lexicons import StanceLexicon, load_stance_lexicon, load_voice_cues
from ..records import Mention, Stance
from .target_sentiment import TargetItem, load_target_model
from .voice import AUTHOR, Segment, is_negated, quoted_spans, segment_at, sentence_segments

log = logging.getLogger(__name__)

EXTRACTOR = "stance-model"
LEXICON_EXTRACTOR = "stance-lexicon"
AGGREGATION = "models/stance/aggregation.json"
# The sum of evidence at which the score reaches about ±1.5 (2·tanh(1) ≈ 1.52).
SCALE = 2.0
# Each sentence that names the actor without judging it pulls the score toward zero a little.
NEUTRAL_DAMPING = 0.1
NEGATED_FACTOR = -0.5
VICTIM_WEIGHT = 0.75
MIN_MENTIONS = 2
MAX_EVIDENCE = 8
_OF_NAME = re.compile(r"^\s*(?:of|du|de|des|d['’])\s*(?:the\s+)?$", re.I)


@dataclass(slots=True)
class _Target:
    actor: str
    start: int
    end: int
    source: bool = False  # "a UN report found ...": the actor vouches for the words, they are not about it


_PREPOSITION = re.compile(r"(?:\b(?:in|at|from|by|of|to|with|for|into|against|on|across|under|over|through|toward|towards|between|among|"
                          r"like|unlike|than|off|dans|à|au|aux|en|de|du|des|par|pour|avec|sur|contre|chez|vers|entre|comme)\s+"
                          r"(?:the\s+|a\s+|an\s+|la\s+|le\s+|les\s+|l['’]|un\s+|une\s+)?(?:[\w-]+\s+)?|\bd['’]|\bl['’])$", re.I)
# "the government of X", "l'armée du X": the head noun stands for the actor after "of".
_HEAD_OF = re.compile(r"\b(?:government|army|forces|troops|soldiers|junta|regime|authorities|president|leaders?|rulers?|ministry|military|"
                      r"gouvernement|armée|soldats|junte|régime|autorités|président|dirigeants?)\s+(?:of|de|du|des|d['’])\s*"
                      r"(?:the\s+|la\s+|le\s+|l['’])?$", re.I)
_ADJACENT = re.compile(r"^\s*(?:[\w-]+\s+)?$")
# "atrocities by Wagner", "behaviour linked to people associated with the Wagner Group": the actor after is the doer.
_BY = re.compile(r"^\s+(?:(?:[\w-]+\s+){0,3}?(?:by|par|linked to|tied to|associated with|backed by|run by|sponsored by|connected to|"
                 r"liée?s? à|associée?s? à|proches? de|pilotée?s? par|soutenue?s? par)\s+)+(?:the\s+|la\s+|le\s+|les\s+|l['’])?(?:[\w-]+\s+){0,3}?$", re.I)
_OF = re.compile(r"^\s+(?:of|de|du|des|d['’])\s*", re.I)
# "Malian and Wagner forces", "les forces maliennes et leurs alliés russes du groupe Wagner": one subject.
_COORDINATED = re.compile(r"^\s*(?:,|,?\s*(?:and|&|et|or|ou|as well as|ainsi que|along with))\s*(?:(?:the|their|its|leurs?|ses|les|des|du|de|of)\s+|"
                          r"(?:allies|partners|alliés|partenaires|forces|troops|soldiers|mercenaries|mercenaires|fighters|combattants)\s+){0,4}$", re.I)


def _pick(lexicon_part: dict[str, re.Pattern], language: str | None) -> list[re.Pattern]:
    return [p for lang, p in lexicon_part.items() if language not in ("en", "fr") or lang == language]


def _targets(text: str, start: int, end: int, mentions: list[Mention], lexicon: StanceLexicon, language: str | None) -> list[_Target]:
    """Return the actor references of a sentence: linked mentions plus attributive words ("Western")."""
    found = [_Target(m.actor, m.start, m.end) for m in mentions if m.actor and start <= m.start and m.end <= end]
    sentence = text[start:end]
    for actor, by_lang in lexicon.adjectives.items():
        for pattern in _pick(by_lang, language):
            for m in pattern.finditer(sentence):
                a, b = start + m.start(), start + m.end()
                if not any(t.start < b and a < t.end for t in found):
                    found.append(_Target(actor, a, b))
    found.sort(key=lambda t: t.start)
    merged: list[_Target] = []
    for t in found:
        # "Ukraine 🇺🇦", "Russia (Moscow)": one reference, not two.
        if merged and merged[-1].actor == t.actor and re.fullmatch(r"[\s()]*", text[merged[-1].end : t.start]):
            merged[-1].end = t.end
        else:
            merged.append(t)
    found = merged
    after_pats = _pick(lexicon.source_after, language)
    before_pats = [re.compile(r"(?:" + p.pattern + r")\s*$", re.I) for p in _pick(lexicon.source_before, language)]
    for t in found:
        after = text[t.end : min(end, t.end + 40)]
        before = text[max(start, t.start - 40) : t.start]
        t.source = any(p.match(after.lstrip(" ’'s")) for p in after_pats) or any(p.search(before) for p in before_pats)
    return sorted(found, key=lambda t: t.start)


def _cues(sentence: str, lexicon: StanceLexicon, language: str | None) -> list[tuple[int, int, float]]:
    """Return (start, end, polarity) of evaluative words in a sentence, longest match first where they overlap."""
    langs = [language] if language in lexicon.polarity else list(lexicon.polarity)
    hits = []
    for lang in langs:
        for pattern, score in lexicon.polarity[lang]:
            hits.extend((m.start(), m.end(), score) for m in pattern.finditer(sentence))
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, int, float]] = []
    for h in hits:
        if not any(h[0] < k[1] and k[0] < h[1] for k in kept):
            kept.append(h)
    return kept


def _holders(text: str, cue_start: int, cue_end: int, polarity: float, seg: Segment, targets: list[_Target],
             lexicon: StanceLexicon, language: str | None, carried: _Target | None) -> list[_Target]:
    """Return the actors an evaluative word is said of (one, or several coordinated ones), or none."""
    inside = [t for t in targets if seg.start <= t.start and t.end <= seg.end and not t.source]
    against = [re.compile(r"(?:" + p.pattern + r")\s+(?:[\w'’-]+\s+|(?:and|&|et|,)\s+){0,5}$", re.I)
               for p in _pick(lexicon.against, language)]

    def victim(t: _Target) -> bool:
        # A hostile word does not blame the actor it is aimed at ("campaigns against France", "massacres of soldiers").
        if polarity >= 0:
            return False
        gap = text[max(seg.start, t.start - 30) : t.start]
        return any(p.search(gap) for p in against) or (t.start >= cue_end and bool(_OF.match(text[cue_end : t.start])))

    chosen: _Target | None = None
    overlapping = [t for t in inside if t.start < cue_end and cue_start < t.end]
    before = [t for t in inside if t.end <= cue_start]
    after = [t for t in inside if t.start >= cue_end]
    if overlapping:
        chosen = overlapping[0]  # the word is part of the name ("Russian mercenaries")
    elif after and re.fullmatch(r"\s*", text[cue_end : after[0].start]) and not victim(after[0]) and not (
            before and re.search(r"['’]s\s*$", text[before[-1].end : cue_start])):
        chosen = after[0]  # "retreating French forces", "the Russian mercenary Wagner Group"
    elif before and _ADJACENT.match(text[before[-1].end : cue_start].replace("’s", "").replace("'s", "")):
        chosen = before[-1]  # "Western dominance", "Russia's brutal war"
    elif after and _ADJACENT.match(text[cue_end : after[0].start]) and not victim(after[0]):
        chosen = after[0]  # "retreating French forces"
    elif after and _BY.match(text[cue_end : after[0].start]):
        chosen = after[0]  # "atrocities by Wagner", "abandoned by Western forces"
    else:
        subjects = [t for t in before if not victim(t) and (not _PREPOSITION.search(text[max(seg.start, t.start - 25) : t.start])
                                                            or _HEAD_OF.search(text[max(seg.start, t.start - 40) : t.start]))]
        candidates = [t for t in before if not victim(t)]
        if carried is not None:
            chosen = carried  # the clause opens with "It", "The latter", "Ce dernier": that is its subject
        elif subjects:
            chosen = subjects[0]
        elif candidates:
            chosen = candidates[-1]
        else:
            later = [t for t in after if not victim(t)]
            chosen = later[0] if later else None
    if chosen is None:
        return []
    group = [chosen]
    # "Malian and Wagner forces executed ...": coordinated actors share the word.
    for t in sorted(inside, key=lambda x: -x.start):
        if t.end <= group[0].start and _COORDINATED.match(text[t.end : group[0].start]):
            group.insert(0, t)
    for t in inside:
        gap = text[group[-1].end : t.start]
        if t.start >= group[-1].end and (_COORDINATED.match(gap) or (len(group) > 1 and _OF_NAME.match(gap))):
            group.append(t)  # "... et leurs alliés russes du groupe Wagner": the name completes the coordinated member
    return list({t.actor: t for t in group}.values())


def _carried(text: str, seg: Segment, previous: list[_Target], lexicon: StanceLexicon, language: str | None) -> _Target | None:
    """Return the actor a clause opening with "It ...", "The latter ..." or "Ce dernier ..." points back to."""
    if not previous:
        return None
    opening = text[seg.start : seg.start + 40].lstrip(" ,;:—–-")
    for p in _pick(lexicon.anaphora, language):
        m = p.match(opening)
        if m:
            word = m.group(0).lower()
            if word.startswith(("the latter", "ce dernier", "cette dernière", "ces derniers")):
                return previous[-1]
            subjects = [t for t in previous if not _PREPOSITION.search(text[max(0, t.start - 25) : t.start])]
            return subjects[0] if subjects else previous[0]
    return None


def lexicon_stances(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                    lexicon_path: str | None = None) -> list[Stance]:
    """Return the stance lexicon's view of the document toward each actor it discusses (evaluative words in the
    author's voice said of the actor), with the sentences that show it, by actor name."""
    lexicon = load_stance_lexicon(lexicon_path)
    cues = load_voice_cues()
    mentions = actor_mentions(mentions)
    quotes = quoted_spans(text)
    lang = language if language in ("en", "fr") else None
    total: dict[str, float] = {}
    named_in: dict[str, set[int]] = {}
    evidence: dict[str, dict[tuple[int, int], float]] = {}
    judged_in: dict[str, set[int]] = {}
    debunk = cues.get("debunk", lang)
    previous: list[_Target] = []

    def add(actor: str, value: float, index: int) -> None:
        span = sentences[index]
        total[actor] = total.get(actor, 0.0) + value
        per = evidence.setdefault(actor, {})
        per[span] = per.get(span, 0.0) + value
        judged_in.setdefault(actor, set()).add(index)

    for index, (s, e) in enumerate(sentences):
        targets = _targets(text, s, e, mentions, lexicon, lang)
        for t in targets:
            named_in.setdefault(t.actor, set()).add(index)
        segments = sentence_segments(text, s, e, lang, quotes, cues)
        sentence = text[s:e]
        # Words after "fake", "falsely", "debunked" describe the false claim, not the author's view.
        first_debunk = debunk.search(sentence) if debunk else None
        for c0, c1, polarity in _cues(sentence, lexicon, lang):
            seg = segment_at(segments, s + c0)
            if seg is None or seg.voice != AUTHOR:
                continue
            if first_debunk and c0 >= first_debunk.end():
                continue
            carried = _carried(text, seg, previous, lexicon, lang)
            candidates = targets
            if first_debunk and c0 >= first_debunk.start():
                # "Fake photos showing French soldiers ...": the fake is not France's; blame only its maker.
                candidates = [t for t in targets if t.end <= s + c0 or (t.start >= s + c1 and _BY.match(text[s + c1 : t.start]))]
            holders = _holders(text, s + c0, s + c1, polarity, seg, candidates, lexicon, lang, carried)
            if not holders:
                continue
            value = polarity * seg.weight
            if is_negated(text, seg, s + c0, lang, cues):
                value *= NEGATED_FACTOR
            for h in holders:
                add(h.actor, value, index)
        for t in targets:
            seg = segment_at(segments, t.start)
            if seg is not None and seg.voice == AUTHOR and _is_victim(text, seg, t, lexicon, lang):
                add(t.actor, VICTIM_WEIGHT * seg.weight, index)
        if targets:
            previous = [t for t in targets if not t.source] or previous

    out: list[Stance] = []
    for actor, where in named_in.items():
        s_sum = total.get(actor, 0.0)
        if len(where) < MIN_MENTIONS and abs(s_sum) < 0.5:
            continue
        neutral = len(where - judged_in.get(actor, set()))
        score = 2.0 * math.tanh(s_sum / (SCALE * (1.0 + NEUTRAL_DAMPING * neutral)))
        spans = evidence.get(actor, {})
        if spans:
            strongest = sorted(spans, key=lambda sp: (-abs(spans[sp]), sp))[:MAX_EVIDENCE]
            ev = tuple(sorted(strongest))
        else:
            ev = tuple(sorted(sentences[i] for i in sorted(where)[:3]))
        confidence = round(min(0.95, 0.35 + 0.1 * len(spans) + 0.1 * abs(score)), 3)
        out.append(Stance(doc=doc_id, actor=actor, score=round(max(-2.0, min(2.0, score)), 2), evidence=ev,
                          extractor=LEXICON_EXTRACTOR, confidence=confidence))
    return sorted(out, key=lambda st: st.actor)


def _is_victim(text: str, seg: Segment, target: _Target, lexicon: StanceLexicon, language: str | None) -> bool:
    """Return whether the actor stands right after an act of aggression ("invasion of Ukraine", "war against X")."""
    before = text[max(seg.start, target.start - 60) : target.start]
    for lang, pattern in lexicon.victim.items():
        if language in ("en", "fr") and lang != language:
            continue
        for m in pattern.finditer(before):
            if re.fullmatch(r"\s*(?:the\s+|la\s+|le\s+|les\s+|l['’]|its\s+|their\s+|\w+\s+)?", before[m.end() :], re.I):
                return True
    return False


def actor_mentions(mentions: list[Mention]) -> list[Mention]:
    """Return the mentions linked to an actor that can hold a stance (places cannot)."""
    kinds = {e.name: e.kind for e in load_actor_catalog().entries}
    return [m for m in mentions if m.actor and kinds.get(m.actor) != PLACE_KIND]


@dataclass(slots=True)
class _Reading:
    """The target model's reading of one mention of an actor in one sentence."""

    actor: str
    sentence: int
    voice: str
    weight: float
    probs: np.ndarray  # P(-1), P(0), P(+1)
    holder: str = ""   # for reported words: the actor the sentence gives them to, when it names one

    @property
    def value(self) -> float:
        return float(self.probs[2] - self.probs[0])


def _speaker(text: str, seg: Segment, segments: list[Segment], named: list[Mention], target: str,
             according: re.Pattern | None = None) -> str:
    """Return the actor a reported stretch is given to: the actor named right after "according to", else the
    nearest actor named in the author's words of the sentence."""
    if according is not None:
        for cue in according.finditer(text, seg.start, seg.end):
            for m in named:
                if m.actor != target and 0 <= m.start - cue.end() <= 12:
                    return m.actor
    best, gap = "", None
    for m in named:
        if m.actor == target:
            continue
        own = segment_at(segments, m.start)
        if own is None or own.voice != AUTHOR:
            continue
        d = seg.start - m.end if m.end <= seg.start else m.start - seg.end
        if d >= 0 and (gap is None or d < gap):
            best, gap = m.actor, d
    return best


def read_mentions(text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                  author_voice: bool = True) -> list[_Reading]:
    """Return the target model's reading of each actor mention, with who speaks at the mention.

    With `author_voice` False the model reads only quoted and attributed mentions (the held stances need them); the
    author's mentions keep neutral readings, which costs nothing when the aggregation does not weigh the model."""
    lang = language if language in ("en", "fr") else None
    cues = load_voice_cues()
    quotes = quoted_spans(text)
    mentions = actor_mentions(mentions)
    items: list[TargetItem] = []
    readings: list[_Reading] = []
    read: list[_Reading] = []  # the readings the model gives values to, in the order of `items`
    k = 0
    for index, (s, e) in enumerate(sentences):
        while k < len(mentions) and mentions[k].start < s:
            k += 1
        named = []
        j = k
        while j < len(mentions) and mentions[j].end <= e:
            named.append(mentions[j])
            j += 1
        if not named:
            continue
        segments = sentence_segments(text, s, e, lang, quotes, cues)
        seen: set[str] = set()
        for m in named:
            if m.actor in seen:
                continue  # one reading per actor and sentence: its first mention
            seen.add(m.actor)
            seg = segment_at(segments, m.start)
            voice = seg.voice if seg is not None else AUTHOR
            weight = seg.weight if seg is not None else 1.0
            holder = (_speaker(text, seg, segments, named, m.actor, cues.get("according_to", lang))
                      if seg is not None and voice != AUTHOR else "")
            readings.append(_Reading(m.actor, index, voice, weight, np.zeros(3), holder))
            if author_voice or voice != AUTHOR:
                items.append(TargetItem(text[s:e], m.start - s, m.end - s))
                read.append(readings[-1])
    if items:
        for r, p in zip(read, load_target_model().probabilities(items)):
            r.probs = p
    return readings


@dataclass(frozen=True, slots=True)
class Aggregation:
    """How per-mention readings and the lexicon become a document's stance: a linear map of FEATURES, clipped to
    [-2, 2], fitted by `training/stance/calibrate.py` with cross-validation by document."""

    weights: dict[str, float]
    bias: float

    @classmethod
    def load(cls, path: Path | None = None) -> "Aggregation":
        """Read the packaged calibration (or another file written by the calibration script)."""
        where = Path(path) if path is not None else resources.files("influence_atlas").joinpath(AGGREGATION)
        try:
            data = json.loads(where.read_text(encoding="utf-8"))
            weights = {k: float(data["weights"][k]) for k in FEATURES}
            return cls(weights, float(data["bias"]))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"the stance calibration {where} cannot be read ({exc}); reinstall influence-atlas "
                             "(pip install -e .) or rerun training/stance/calibrate.py") from exc

    @property
    def weighs_model(self) -> bool:
        """True when the author's stance depends on the model's readings (any model feature has a weight)."""
        return any(w != 0.0 for k, w in self.weights.items() if k != "lexicon")

    def score(self, features: dict[str, float]) -> float:
        """Return the stance in [-2, 2] for one actor's features."""
        raw = self.bias + sum(w * features[k] for k, w in self.weights.items())
        return max(-2.0, min(2.0, raw))


def stance_features(readings: list[_Reading], lexicon: dict[str, float], n_sentences: int,
                    language: str | None) -> dict[str, dict[str, float]]:
    """Return per actor the FEATURES the aggregation weighs, from the author-voice readings and the lexicon score."""
    own = [r for r in readings if r.voice == AUTHOR]
    doc_mean = float(np.mean([r.value for r in own])) if own else 0.0
    actors = sorted({r.actor for r in readings} | set(lexicon))
    out: dict[str, dict[str, float]] = {}
    for actor in actors:
        mine = [r for r in own if r.actor == actor]
        quoted = [r for r in readings if r.actor == actor and r.voice != AUTHOR]
        weights = np.array([r.weight for r in mine]) if mine else np.zeros(0)
        values = np.array([r.value for r in mine]) if mine else np.zeros(0)
        mean = float((weights * values).sum() / weights.sum()) if mine and weights.sum() > 0 else 0.0
        neg = float(np.mean([r.probs.argmax() == 0 for r in mine])) if mine else 0.0
        pos = float(np.mean([r.probs.argmax() == 2 for r in mine])) if mine else 0.0
        named = len({r.sentence for r in readings if r.actor == actor})
        f = {
            "model_mean": mean,
            "model_neg_share": neg,
            "model_pos_share": pos,
            "model_sum": float(np.tanh((weights * values).sum() / 3.0)) if mine else 0.0,
            "quoted_mean": float(np.mean([r.value for r in quoted])) if quoted else 0.0,
            "doc_mean": doc_mean,
            "lexicon": lexicon.get(actor, 0.0),
            "mentions": math.log1p(named),
            "share": named / max(n_sentences, 1),
        }
        fr = 1.0 if language == "fr" else 0.0
        f.update({f"fr_{k}": fr * f[k] for k in FR_FEATURES})
        f["fr"] = fr
        out[actor] = f
    return out


FR_FEATURES = ("model_mean", "lexicon")
# The features the shipped aggregation weighs (stance_features computes more; calibrate.py compares subsets:
# all of them cross-validate at sign 0.63 / MAE 0.59, these three at 0.66 / 0.58).
FEATURES = ("lexicon", "model_sum", "doc_mean")


def find_stances(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                 lexicon_path: str | None = None) -> list[Stance]:
    """Return the document's stance toward each actor it names (the author's, `holder` empty) and the stances of the
    actors it quotes (`holder` the speaker), each with the sentences that show it."""
    lexicon = {st.actor: st for st in lexicon_stances(doc_id, text, sentences, mentions, language, lexicon_path)}
    try:
        aggregation = Aggregation.load()
        readings = read_mentions(text, sentences, mentions, language, author_voice=aggregation.weighs_model)
    except Exception as exc:  # one document's failure must not stop a batch: keep the lexicon's reading
        log.warning("stance model failed on document %s (%s); using the stance lexicon alone", doc_id, exc)
        return sorted(lexicon.values(), key=lambda st: st.actor)
    features = stance_features(readings, {a: st.score for a, st in lexicon.items()}, len(sentences), language)
    out: list[Stance] = []
    for actor, f in features.items():
        score = aggregation.score(f)
        own = [r for r in readings if r.actor == actor and r.voice == AUTHOR]
        ev = _evidence(own, score, sentences)
        if not ev and actor in lexicon:
            ev = lexicon[actor].evidence
        if not ev:
            ev = tuple(sorted({sentences[r.sentence] for r in readings if r.actor == actor}))[:3]
        if not ev:
            continue
        confidence = round(min(0.95, 0.35 + 0.05 * len(own) + 0.15 * abs(score)), 3)
        out.append(Stance(doc=doc_id, actor=actor, score=round(score, 2), evidence=ev, extractor=EXTRACTOR,
                          confidence=confidence))
    held: dict[tuple[str, str], list[_Reading]] = {}
    for r in readings:
        if r.voice != AUTHOR and r.holder:
            held.setdefault((r.holder, r.actor), []).append(r)
    for (holder, actor), rs in sorted(held.items()):
        score = max(-2.0, min(2.0, 2.0 * float(np.mean([r.value for r in rs]))))
        ev = _evidence(rs, score, sentences) or tuple(sorted({sentences[r.sentence] for r in rs}))[:3]
        out.append(Stance(doc=doc_id, actor=actor, score=round(score, 2), evidence=ev, extractor=EXTRACTOR,
                          confidence=round(min(0.9, 0.3 + 0.05 * len(rs)), 3), holder=holder))
    return sorted(out, key=lambda st: (st.holder, st.actor))


def _evidence(readings: list[_Reading], score: float, sentences: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Return the sentences whose readings lean the way the score does, strongest first, in text order."""
    sign = 1.0 if score >= 0 else -1.0
    leaning = [r for r in readings if sign * r.value > 0.3]
    leaning.sort(key=lambda r: -sign * r.value)
    return tuple(sorted({sentences[r.sentence] for r in leaning[:MAX_EVIDENCE]}))
