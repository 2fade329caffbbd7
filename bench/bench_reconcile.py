"""Cross-document event linking at scale: time and growth from 10k to 100k synthetic events.

Usage: .venv/bin/python bench/bench_reconcile.py [--sizes 10000,100000] [--seed 7] [--save]

Synthetic tellings: 18 event types, actors drawn from a heavy-tailed (Zipf-like) pool of 800
names, dates spread over 2000–2024 at year, month or day precision (15% undated), one document
per 4 events, and a planted share of re-tellings (the same happening told by another document
with a perturbed toll, date precision or actor list) so that linking has real work to do.
The reference measured in the same run is a naive all-pairs comparison on a small sample,
extrapolated quadratically: what blocking saves.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from influence_atlas.reconcile.events import link_same_events, pair_score  # noqa: E402
from influence_atlas.records import Event, EventActor  # noqa: E402

TYPES = ["armed_clash", "attack", "violence_against_civilians", "protest", "coup", "election", "deployment", "withdrawal",
         "training", "arms_transfer", "agreement", "diplomatic_meeting", "vote", "sanction", "media_restriction",
         "information_operation", "publication", "other"]
WORDS = ("forces troops village town civilians killed attack militants convoy junta officials mercenaries report ministry "
         "ambassador summit deal helicopters drones radio broadcasters sanctions vote council protest crowd capital "
         "election ballot fighters army region border operation").split()


def synthetic_events(n: int, seed: int) -> list[Event]:
    """Return n synthetic events; about a fifth re-tell an earlier happening from another document."""
    rng = random.Random(seed)
    actors = [f"Actor {i}" for i in range(800)]
    weights = [1 / (i + 1) ** 1.1 for i in range(800)]
    places = [f"Town {i}" for i in range(3000)]
    events: list[Event] = []
    for i in range(n):
        doc = f"doc{i // 4:07d}"
        if events and rng.random() < 0.2:
            src = rng.choice(events[-2000:])
            date = src.date if rng.random() < 0.6 else (src.date[:4] if src.date else None)
            deaths = None if src.fatalities is None else max(1, int(src.fatalities * rng.uniform(0.5, 1.6)))
            acts = src.actors[: max(1, len(src.actors) - rng.randint(0, 1))]
            ev = Event(f"ev{i:08d}", doc, src.type, date, None, acts, src.location, None, None, deaths, None, "asserted",
                       0, 10, src.evidence, "x", "bench", 0.5)
        else:
            year = rng.randint(2000, 2024)
            r = rng.random()
            date = None if r < 0.15 else str(year) if r < 0.35 else f"{year}-{rng.randint(1, 12):02d}" if r < 0.7 else \
                f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            names = list(dict.fromkeys(rng.choices(actors, weights, k=rng.randint(1, 3))))
            acts = tuple(EventActor(a, "agent" if j == 0 else "target") for j, a in enumerate(names))
            etype = rng.choice(TYPES)
            deaths = rng.randint(1, 600) if etype in ("attack", "violence_against_civilians", "armed_clash") and rng.random() < 0.6 else None
            ev = Event(f"ev{i:08d}", doc, etype, date, None, acts, rng.choice(places) if rng.random() < 0.7 else None, None, None,
                       deaths, None, "asserted", 0, 10, " ".join(rng.choices(WORDS, k=18)), "x", "bench", 0.5)
        events.append(ev)
    return events


def naive_seconds(events: list[Event]) -> float:
    started = time.perf_counter()
    for i, a in enumerate(events):
        for b in events[i + 1 :]:
            pair_score(a, b)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sample", type=int, default=2000, help="events in the naive all-pairs reference")
    ap.add_argument("--save", action="store_true", help="write bench/results/reconcile.json")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    rows = []
    sample = synthetic_events(a.sample, a.seed)
    ref = naive_seconds(sample)
    for n in sizes:
        events = synthetic_events(n, a.seed)
        started = time.perf_counter()
        links = link_same_events(events)
        seconds = time.perf_counter() - started
        naive_est = ref * (n / a.sample) ** 2
        rows.append({"events": n, "seconds": round(seconds, 2), "links": len(links),
                     "events_per_s": round(n / seconds), "naive_all_pairs_est_s": round(naive_est, 1),
                     "speedup_vs_naive": round(naive_est / seconds, 1)})
        print(f"{n:>8} events: {seconds:7.2f} s, {len(links):6} links, naive all-pairs ≈ {naive_est:9.1f} s "
              f"(×{naive_est / seconds:.0f})", flush=True)
    growth = rows[-1]["seconds"] / rows[0]["seconds"] if len(rows) > 1 else None
    size_ratio = sizes[-1] / sizes[0] if len(sizes) > 1 else None
    result = {"reference_naive_sample": a.sample, "reference_naive_s": round(ref, 2), "runs": rows,
              "growth": round(growth, 2) if growth else None, "size_ratio": size_ratio,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if growth:
        print(f"time grows ×{growth:.1f} for ×{size_ratio:.0f} events (linear would be ×{size_ratio:.0f}, quadratic ×{size_ratio ** 2:.0f})")
    print(json.dumps(result))
    if a.save:
        out = Path(__file__).resolve().parent / "results" / "reconcile.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
