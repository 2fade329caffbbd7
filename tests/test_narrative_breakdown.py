"""training/narratives/breakdown.py: narrative errors counted per document, narrative and group."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "training" / "narratives" / "breakdown.py"


def write_gold(folder: Path, doc: str, language: str, endorsed: list[str], reported: list[str]) -> None:
    (folder / (Path(doc).stem + ".json")).write_text(json.dumps(
        {"doc": doc, "language": language, "narratives": {"endorsed": endorsed, "reported": reported}}))


def test_breakdown_counts_missed_extra_and_wrong_mode(tmp_path):
    gold = tmp_path / "gold"
    gold.mkdir()
    write_gold(gold, "000_seed.txt", "en", ["N1", "N2"], ["C1"])
    write_gold(gold, "story.txt", "fr", ["C4"], ["N2"])
    (gold / "actors.json").write_text("[]")  # not a document: skipped
    export = {
        "documents": [{"id": "a", "name": "000_seed.txt"}, {"id": "b", "name": "story.txt"}],
        "narratives": [
            {"doc": "a", "narrative": "N1", "mode": "endorsed"},   # right
            {"doc": "a", "narrative": "C1", "mode": "endorsed"},   # wrong mode
            {"doc": "a", "narrative": "N8", "mode": "endorsed"},   # extra; N2 missed
            {"doc": "b", "narrative": "C4", "mode": "endorsed"},   # right; N2 missed
        ],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    out = subprocess.run([sys.executable, str(SCRIPT), str(path), str(gold)], capture_output=True, text=True, check=True).stdout
    table = {line.split()[0]: [int(x) for x in line.split()[1:]] for line in out.splitlines()
             if line.split() and line.split()[0] in ("all", "dev28", "seeds", "en", "fr")}
    # gold, system, right, missed, extra, wrong mode
    assert table["all"] == [5, 4, 2, 2, 1, 1]
    assert table["seeds"] == [3, 3, 1, 1, 1, 1]
    assert table["dev28"] == table["fr"] == [2, 1, 1, 1, 0, 0]
    assert "000_seed.txt" in out and "missed N2" in out
