"""Hostile inputs cost linear time: CPU seconds of each kind at 1x and 10x size, and their ratio (about 10 is linear,
about 100 quadratic).

    .venv/bin/python bench/bench_hostile.py [--save]

Kinds: hard-wrapped lines (normalise_text), unmatched Markdown emphasis markers (markdown_to_text), one HTML tag
with thousands of attributes and a deep run of nested tags (the HTML reader, trafilatura included). Each figure is
the best of three runs, CPU time of this process.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from common import RESULTS_DIR, emit

BODY = "<p>" + "The junta in Bamako suspended two French broadcasters after reports of abuses. " * 4 + "</p>"


def cpu(fn, arg) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = os.times()
        fn(arg)
        t1 = os.times()
        best = min(best, (t1.user - t0.user) + (t1.system - t0.system))
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--save", action="store_true", help="also write the JSON line to bench/results/hostile.json")
    args = ap.parse_args()
    from influence_atlas.text.normalise import normalise_text
    from influence_atlas.text.readers import markdown_to_text, read_sources

    def html(text: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "page.html"
            path.write_text(text)
            list(read_sources(path))

    kinds = {
        "hard_wrapped": (normalise_text, lambda n: "\n".join(["word " * 10 + "and"] * (4000 * n))),
        "markdown_markers": (markdown_to_text, lambda n: "**x " * (8000 * n)),
        "html_attributes": (html, lambda n: "<html><body><div " + " ".join(f'a{i}="x"' for i in range(4000 * n))
                            + f">{BODY}</div><article>{BODY}</article></body></html>"),
        "html_nesting": (html, lambda n: "<html><body><article>" + "<div>" * (100 * n) + BODY + "</div>" * (100 * n)
                         + "</article></body></html>"),
    }
    result = {}
    for name, (fn, make) in kinds.items():
        small, big = cpu(fn, make(1)), cpu(fn, make(10))
        # os.times() counts in hundredths of a second: below a few of them the ratio says nothing.
        ratio = round(big / small, 1) if small >= 0.05 else None
        result[name] = {"cpu_s_1x": round(small, 4), "cpu_s_10x": round(big, 4), "ratio": ratio}
        print(f"{name:18s} 1x {small:8.4f} s   10x {big:8.4f} s   ratio {ratio if ratio is not None else 'below timer resolution'}")
    emit(result, RESULTS_DIR / "hostile.json", args.save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
