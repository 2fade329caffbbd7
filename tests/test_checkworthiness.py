"""Check-worthiness: the shipped model scores without torch, the CLI speaks CheckThat! TSV, and F1 holds a floor."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from influence_atlas.errors import InputError
from influence_atlas.extract.checkworthiness import THRESHOLD, parse_checkthat_tsv, read_checkthat_tsv, score_sentences

DEV_TEST = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "checkthat2024" / "CT24_dev-test.tsv"
# Measured 0.7892 (73 of 108 Yes found, 4 false alarms) with the shipped head, threshold chosen on dev; floors only move up.
DEV_TEST_F1_FLOOR = 0.77


def _atlas(args, cwd):
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "influence_atlas", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_model_scores_without_torch():
    code = (
        "import json, sys\n"
        "from influence_atlas.extract.checkworthiness import score_sentences\n"
        "scores = score_sentences(['Unemployment fell to 3.5 percent in 2019, the lowest rate in fifty years.',"
        " 'Thank you, it is good to be here tonight.'])\n"
        "print(json.dumps({'scores': scores, 'torch': 'torch' in sys.modules}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["torch"] is False
    claim, pleasantry = result["scores"]
    assert 0.0 <= pleasantry < THRESHOLD <= claim <= 1.0


def test_scores_keep_input_order_across_batches():
    texts = ["Thank you.", "The deficit rose by 400 billion dollars last year."] * 40 + ["Good evening."]
    scores = score_sentences(texts)
    assert len(scores) == len(texts)
    assert scores[:2] * 40 == pytest.approx(scores[:-1], abs=1e-5)
    assert score_sentences([]) == []


def test_cli_prints_id_score_label_per_line(tmp_path):
    tsv = tmp_path / "sentences.tsv"
    tsv.write_text(
        "Sentence_id\tText\tclass_label\n"
        "a1\tWe have lost 2 million manufacturing jobs since 2001.\tYes\n"
        "a2\t\"I said \"\"no\"\" to that.\"\tNo\n"
        "a3\tThank you very much.\n",
        encoding="utf-8",
    )
    proc = _atlas(["checkworthiness", str(tsv)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == ["a1", "a2", "a3"]
    for line in lines:
        assert re.fullmatch(r"a\d\t[01]\.\d{4}\t(Yes|No)", line), line
    assert lines[0].endswith("\tYes") and lines[2].endswith("\tNo")
    everything = _atlas(["checkworthiness", str(tsv), "--threshold", "0"], tmp_path)
    assert [ln.split("\t")[2] for ln in everything.stdout.splitlines()] == ["Yes", "Yes", "Yes"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", r"empty\.tsv: no sentences found"),
        ("Sentence_id\tText\n1\tFine.\n2 no tab here\n", r"bad\.tsv, line 3: expected `Sentence_id<TAB>Text`"),
    ],
    ids=["empty", "no-tab"],
)
def test_cli_names_file_and_line_of_bad_input(tmp_path, content, expected):
    name = "empty.tsv" if not content else "bad.tsv"
    (tmp_path / name).write_text(content, encoding="utf-8")
    proc = _atlas(["checkworthiness", name], tmp_path)
    assert proc.returncode == 2
    assert re.search(expected, proc.stderr), proc.stderr
    missing = _atlas(["checkworthiness", "nowhere.tsv"], tmp_path)
    assert missing.returncode == 2 and "nowhere.tsv: file not found" in missing.stderr


def test_parse_checkthat_tsv_reads_quotes_header_and_labels():
    rows = parse_checkthat_tsv('Sentence_id\tText\tclass_label\r\n26\t"A movie - ""Crocodile Dundee."""\tNo\r\n80\tWe consume 50 percent.\tYes\r\n', "x.tsv")
    assert [(r.sentence_id, r.text, r.label, r.line) for r in rows] == [
        ("26", 'A movie - "Crocodile Dundee."', "No", 2), ("80", "We consume 50 percent.", "Yes", 3)]


@pytest.mark.parametrize(
    "content, message",
    [
        ("1\tWe've got to invest.\tNo29286\tYou can't bring back jobs.\tNo\n", "x.tsv, line 1: class_label 'No29286' is not Yes or No"),
        ("1\tOne.\n1\tTwo.\n", "x.tsv, line 2: Sentence_id '1' already used on line 1"),
        ("\tNo id.\n", "x.tsv, line 1: the Sentence_id column is empty"),
    ],
    ids=["joined-records", "repeated-id", "empty-id"],
)
def test_parse_checkthat_tsv_rejects_malformed_lines(content, message):
    with pytest.raises(InputError) as caught:
        parse_checkthat_tsv(content, "x.tsv")
    assert str(caught.value).startswith(message)


def test_read_checkthat_tsv_names_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_checkthat_tsv(tmp_path / "absent.tsv")


def test_dev_test_f1_holds_its_floor():
    if not DEV_TEST.is_file():
        pytest.fail(f"CheckThat! 2024 dev-test not found at {DEV_TEST} (the tests need ../shared beside the clone, as CI has it)")
    rows = read_checkthat_tsv(DEV_TEST)
    scores = score_sentences([r.text for r in rows], "en")
    tp = sum(r.label == "Yes" and s >= THRESHOLD for r, s in zip(rows, scores))
    fp = sum(r.label == "No" and s >= THRESHOLD for r, s in zip(rows, scores))
    fn = sum(r.label == "Yes" and s < THRESHOLD for r, s in zip(rows, scores))
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= DEV_TEST_F1_FLOOR, f"F1 of Yes on CT24_dev-test fell to {f1:.4f} (floor {DEV_TEST_F1_FLOOR})"
