"""The `atlas` command: a thin layer over the library's public functions."""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import AtlasError, printable

class AtlasGroup(typer.core.TyperGroup):
    """The command group that reports errors once for every command: an AtlasError (bad input named, missing model,
    unreadable database) becomes one `error:` line and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AtlasError as exc:
            _fail(exc)


app = typer.Typer(
    name="atlas",
    cls=AtlasGroup,
    help="Influence Atlas: turn a pile of documents into an evidence-linked map of an influence campaign.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (CI logs, files) gets a wide fixed width instead of Rich's 80 columns.
console = Console() if Console().is_terminal else Console(width=160)
err = Console(stderr=True) if Console(stderr=True).is_terminal else Console(stderr=True, width=160)

DbOption = typer.Option(None, "--db", help="Database path or URL (default: $ATLAS_DB, else ./atlas.db).", show_default=False)
ActorsOption = typer.Option(None, "--actors", help="Extra actor gazetteer YAML file(s) extending the packaged one.", show_default=False)
DEFAULT_DEMO_CORPUS = "../shared/corpus/seeds"
NarrativesOption = typer.Option(None, "--narratives", help="Narrative taxonomy YAML to use instead of the packaged one "
                                "(default: $ATLAS_NARRATIVES, else the packaged taxonomy); a changed taxonomy is a new "
                                "analysis version, so documents are analysed again.", show_default=False)


def _report_error(exc: AtlasError) -> None:
    err.print(f"[bold red]error:[/] {escape(printable(str(exc)))}")


def _fail(exc: AtlasError) -> None:
    _report_error(exc)
    raise typer.Exit(2)


@contextmanager
def _progress(description: str, total: int | None = None):
    """Yield (advance(name), set_total(n)) over a Rich progress bar on stderr."""
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[item]}")]
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=total, item="")

        def advance(name: str) -> None:
            bar.update(task, advance=1, item=escape(name[-50:]))

        def set_total(n: int) -> None:
            bar.update(task, total=n)

        yield advance, set_total


def _print_lines(lines) -> None:
    """Write plain lines to standard output (no Rich markup or wrapping: the output is a file format)."""
    out = sys.stdout
    for line in lines:
        out.write(line + "\n")
    out.flush()


def _open(db: Optional[str]):
    from .store import open_store

    return open_store(db)


def version_callback(value: bool) -> None:
    if value:
        console.print(f"atlas {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True, help="Show the version and exit."),
         debug: bool = typer.Option(False, "--debug", help="Show the traceback of unexpected errors (also $ATLAS_DEBUG=1).")) -> None:
    """Influence Atlas: turn a pile of documents into an evidence-linked map of an influence campaign.

    Exit codes: 0 all went well; 1 some inputs failed (each named on its own `failed:` line, the rest done);
    2 the command could not run (bad option, unreadable database, missing model, or a bug: rerun with --debug)."""
    if debug:
        os.environ["ATLAS_DEBUG"] = "1"


@app.command()
def ingest(
    paths: List[str] = typer.Argument(..., help="Files and folders (searched recursively) to ingest."),
    db: Optional[str] = DbOption,
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the document text."),
    title_field: str = typer.Option("title", help="JSONL/CSV field holding the title."),
    url_field: str = typer.Option("url", help="JSONL/CSV field holding the URL."),
    author_field: str = typer.Option("author", help="JSONL/CSV field holding the author(s)."),
    published_field: str = typer.Option("published", help="JSONL/CSV field holding the publication date."),
    outlet_field: str = typer.Option("outlet", help="JSONL/CSV field holding the outlet name."),
    id_field: str = typer.Option("id", help="JSONL/CSV field naming each record."),
    max_mb: float = typer.Option(25.0, help="Refuse files larger than this many megabytes."),
    encoding: Optional[str] = typer.Option(None, help="Fallback encoding for files that are not UTF-8 (e.g. cp1252)."),
) -> None:
    """Read documents (.txt .md .html .pdf .jsonl .csv), normalise them and store them; unchanged content is skipped."""
    from .pipeline import ingest as run_ingest
    from .text.readers import ReadOptions

    options = ReadOptions(text_field=text_field, title_field=title_field, url_field=url_field, author_field=author_field,
                          published_field=published_field, outlet_field=outlet_field, id_field=id_field,
                          max_bytes=int(max_mb * 1024 * 1024), encoding=encoding)
    store = _open(db)
    with _progress("ingesting") as (advance, _):
        report = run_ingest(store, paths, options, progress=advance)
    for failure in report.failed:
        err.print(f"[red]failed:[/] {escape(str(failure))}")
    console.print(f"ingested {len(report.added)} new, {len(report.unchanged)} unchanged, {len(report.failed)} failed")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def analyze(
    db: Optional[str] = DbOption,
    redo_all: bool = typer.Option(False, "--all", help="Re-analyse every document, not only new or stale ones."),
    actors: Optional[List[str]] = ActorsOption,
    engine: str = typer.Option("local", "--engine", help="local: this process, one document at a time (run several processes "
                               "on one database to share the work); ray: Ray Data batches on Ray workers."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster to join (e.g. ray://head:10001 or auto; "
                                          "default: start Ray on this machine). With --engine ray.", show_default=False),
    workers: Optional[int] = typer.Option(None, "--workers", help="Ray analysis workers (default: one per CPU). With --engine ray.",
                                          show_default=False),
    inputs: Optional[List[str]] = typer.Option(None, "--input", help="Parquet/JSONL file or folder to ingest and analyse in one "
                                               "pass instead of the stored documents (repeatable; --text-field etc. as for ingest "
                                               "use their defaults). With --engine ray.", show_default=False),
    skip: Optional[List[str]] = typer.Option(None, "--skip", help="Leave out an optional stage (repeatable): techniques "
                                             "(persuasion-technique spans, about as costly as the rest of the analysis). "
                                             "Changing the stages analyses every document again.", show_default=False),
    narratives_file: Optional[str] = NarrativesOption,
) -> None:
    """Analyse stored documents not yet analysed by this version: actors, events, claims, stance, narratives,
    persuasion techniques and DISARM techniques; then link records across documents."""
    from .pipeline import analyze as run_analyze, check_skip

    _use_narratives(narratives_file)

    if engine not in ("local", "ray"):
        raise AtlasError("--engine must be local or ray")
    if engine == "local" and (address or workers or inputs):
        raise AtlasError("--address, --workers and --input go with --engine ray")
    stages_off = check_skip(skip or ())
    store = _open(db)
    with _progress("analysing") as (advance, set_total):
        if engine == "ray":
            from .ray_engine import analyze_with_ray

            report = analyze_with_ray(store, redo_all=redo_all, actor_files=tuple(actors or ()), address=address,
                                      workers=workers, inputs=tuple(inputs or ()), progress=advance, on_total=set_total,
                                      skip=tuple(stages_off))
        else:
            report = run_analyze(store, redo_all=redo_all, actor_files=tuple(actors or ()), progress=advance,
                                 on_total=set_total, skip=stages_off)
    if report.retaken:
        err.print(f"[yellow]note:[/] took up {report.retaken} document(s) left claimed by a stopped `atlas analyze` on this machine")
    for failure in report.failed:
        err.print(f"[red]failed:[/] {escape(failure)}")
    if report.corrections_orphaned:
        err.print(f"[yellow]note:[/] {len(set(report.corrections_orphaned))} analyst correction(s) no longer find their record "
                  f"(orphaned): {escape(', '.join(sorted(set(report.corrections_orphaned))))}; see `atlas correct list --state orphaned`")
    if report.corrections_applied:
        console.print(f"replayed {len(set(report.corrections_applied))} analyst correction(s)")
    techniques = "persuasion techniques skipped" if "techniques" in stages_off else f"{report.techniques} persuasion-technique spans"
    console.print(f"analysed {report.documents} document(s): {report.mentions} mentions of {report.actors} actors, "
                  f"{report.events} events, {techniques}")
    if report.techniques_unsupported:
        langs = ", ".join(f"{n} in {lang}" for lang, n in sorted(report.techniques_unsupported.items()))
        err.print(f"[yellow]note:[/] no persuasion techniques looked for in {sum(report.techniques_unsupported.values())} "
                  f"document(s) ({escape(langs)}): the models are trained on English news only (SemEval-2020 Task 11)")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def export(
    out: str = typer.Argument(..., help="File to write."),
    fmt: str = typer.Option("json", "--format", "-f", help="Export format: json, acled-csv, claimreview, stix (STIX 2.1 bundle with DISARM), ftm (FollowTheMoney JSON lines), gexf or graphml (actor network)."),
    db: Optional[str] = DbOption,
) -> None:
    """Export the analysed database: json (the contract of DESIGN.md: sorted arrays, stable ids), acled-csv, claimreview, stix, ftm, gexf or graphml."""
    from .export import export as run_export

    store = _open(db)
    path = run_export(store, fmt, out)
    console.print(f"wrote {path}")


@app.command()
def timeline(
    db: Optional[str] = DbOption,
    actor: Optional[str] = typer.Option(None, "--actor", help="Only events involving this actor (canonical name or alias)."),
    country: Optional[str] = typer.Option(None, "--country", help="Only events in, or involving actors of, this country."),
    date_from: Optional[str] = typer.Option(None, "--from", help="Only events on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)."),
    date_to: Optional[str] = typer.Option(None, "--to", help="Only events on or before this date."),
    undated: bool = typer.Option(False, "--undated", help="Also list events the text gives no date for (when no period is set)."),
    limit: int = typer.Option(0, help="Show at most this many events (0: all)."),
) -> None:
    """Print events from every source in date order, with each one's document and evidence."""
    from rich.text import Text

    from .timeline import timeline as run_timeline

    store = _open(db)
    rows = run_timeline(store, actor, country, date_from, date_to, undated)
    if limit:
        rows = rows[:limit]
    if not rows:
        console.print("no events match")
        return
    table = Table("date", "type", "actors", "place", "deaths", "source", "evidence", show_lines=True)
    for r in rows:
        e = r.event
        deaths = "" if e.fatalities is None else (f"{e.fatalities_qualifier} " if e.fatalities_qualifier else "") + str(e.fatalities)
        kind = e.type + ("" if e.modality == "asserted" else f" ({e.modality})")
        table.add_row(e.date or "?", kind, Text(", ".join(f"{a.name} [{a.role}]" for a in e.actors)), Text(e.location or ""),
                      deaths, Text(r.document), Text(e.evidence if len(e.evidence) <= 220 else e.evidence[:219] + "…"))
    console.print(table)
    console.print(f"{len(rows)} event(s)")


@app.command()
def profile(
    document: str = typer.Argument(..., help="Document id (or its first characters) or file name."),
    db: Optional[str] = DbOption,
    claims: bool = typer.Option(True, "--claims/--no-claims", help="List the document's claims with their sources."),
    techniques: bool = typer.Option(True, "--techniques/--no-techniques", help="List the document's persuasion techniques "
                                    "and the DISARM techniques it describes, with their spans."),
) -> None:
    """Show a document's sourcing profile (claims, share with a named source, distinct sources, hedged share), its
    persuasion techniques and the DISARM techniques it describes."""
    from rich.text import Text

    from .queries import document_profile
    from .versions import TECHNIQUE_STATUS_TEXT

    found = document_profile(_open(db), document)
    doc, prof = found.document, found.profile
    console.print(f"[bold]{escape(doc['name'])}[/] {escape(doc['title'] or '')}")
    console.print(
        f"{prof['claims']} claims: {prof['sourced']} with a named source ({prof['sourced_share']:.0%}), "
        f"{prof['unsourced']} asserted by the author; {prof['distinct_sources']} distinct sources; "
        f"{prof['hedged']} hedged ({prof['hedged_share']:.0%}); {prof['with_figures']} with figures"
    )
    if prof["sources"]:
        console.print("sources: " + escape(", ".join(prof["sources"])))
    if claims and found.claims:
        table = Table("source", "relay", "verb", "hedges", "figures", "score", "claim", show_lines=True)
        for c in found.claims:
            table.add_row(Text(c.attributed_to or "— (author)"), Text(c.relayed_by or ""), c.reporting_verb or "", ", ".join(c.hedges),
                          Text(", ".join(q.text for q in c.quantities)), f"{c.confidence:.2f}", Text(c.text))
        console.print(table)
    hits, ttps = found.techniques, found.ttps
    if found.technique_status != "analysed":
        console.print(escape(TECHNIQUE_STATUS_TEXT[found.technique_status]))
    else:
        ranked = found.technique_counts()
        console.print(f"{len(hits)} persuasion techniques" + (": " + escape(", ".join(f"{k} {v}" for k, v in ranked)) if ranked else ""))
    console.print(f"{len(ttps)} DISARM technique hits" + (": " + escape(", ".join(sorted({f"{x.disarm_id} {x.name}" for x in ttps})))
                                                          if ttps else ""))
    if techniques and (hits or ttps):
        table = Table("kind", "what", "score", "span", show_lines=True)
        for h in hits:
            table.add_row("technique", Text(h.technique), f"{h.score:.2f}", Text(h.text))
        for x in ttps:
            table.add_row("DISARM", Text(f"{x.disarm_id} {x.name}"), f"{x.confidence:.2f}", Text(x.evidence))
        console.print(table)


@app.command()
def contradictions(
    db: Optional[str] = DbOption,
    kind: str = typer.Option("all", "--kind", help="Which links: claims (contradicting claims), events (tellings of one event that differ), corroborations (claims that agree), or all (conflicts only)."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", min=0.0, max=1.0, help="Show links down to this confidence (default: the calibrated cut-off the analysis stored). A lower value recomputes the links and shows more, less certain ones."),
) -> None:
    """List conflicts across sources, most confident first: both sides' words, the reason (figure or proposition) and the confidence."""
    from rich.text import Text

    from .queries import conflicts

    found, names = conflicts(_open(db), kind, min_confidence)
    for conflict in found:
        link = conflict.link
        if link.kind != "same_event":
            table = Table("source", "says", title=f"{conflict.what} — {link.detail} — confidence {link.score:.2f}", show_lines=True)
            for c in conflict.claims:
                table.add_row(Text(f"{names.get(c.doc, c.doc)}\n{c.attributed_to or '(author)'}"), Text(c.text))
        else:
            table = Table("source", "date", "deaths", "actors", "says",
                          title=f"{conflict.what} — {link.detail} — confidence {link.score:.2f}", show_lines=True)
            for e in conflict.events:
                table.add_row(Text(names.get(e.doc, e.doc)), e.date or "—", "" if e.fatalities is None else str(e.fatalities),
                              Text(", ".join(a.name for a in e.actors)), Text(e.evidence))
        console.print(table)
    if not found:
        console.print("no conflicts found" + ("" if min_confidence is not None else " (lower the cut-off with --min-confidence)"))


@app.command()
def event(
    event_id: str = typer.Argument(..., help="Event id (or its first characters), as in the export or the timeline."),
    db: Optional[str] = DbOption,
) -> None:
    """Show every account of one event side by side: each source's date, place, toll, actors and words."""
    from rich.text import Text

    from .queries import event_accounts

    found = event_accounts(_open(db), event_id)
    names = found.names
    table = Table("", *[escape(names.get(e.doc, e.doc)) for e in found.events], title=escape(f"{found.events[0].type}: {found.detail}"),
                  show_lines=True)
    rows = [
        ("date", lambda e: e.date or "—"),
        ("place", lambda e: e.location or "—"),
        ("deaths", lambda e: "—" if e.fatalities is None else f"{e.fatalities_qualifier or ''} {e.fatalities}".strip()),
        ("actors", lambda e: ", ".join(f"{a.name} [{a.role}]" for a in e.actors)),
        ("modality", lambda e: e.modality),
        ("evidence", lambda e: e.evidence),
        ("id", lambda e: e.id),
    ]
    for label, get in rows:
        table.add_row(label, *[Text(get(e)) for e in found.events])
    console.print(table)


@app.command()
def search(
    query: str = typer.Argument(..., help="Words to look for (a trailing * searches by prefix)."),
    db: Optional[str] = DbOption,
    limit: int = typer.Option(20, help="Most results to show."),
) -> None:
    """Full-text search over stored documents; prints document, title and a highlighted snippet."""
    store = _open(db)
    rows = store.search(query, limit)
    if not rows:
        console.print("no matches")
        raise typer.Exit(1)
    from rich.text import Text

    table = Table("document", "title", "snippet", show_lines=True)
    for r in rows:
        snippet = Text()
        for i, part in enumerate(re.split(r"[\x02\x03]", r["snippet"] or "")):
            snippet.append(part, style="bold yellow" if i % 2 else None)
        table.add_row(Text(r["name"]), Text(r["title"] or ""), snippet)
    console.print(table)


@app.command("eval")
def evaluate_cmd(
    gold_dir: str = typer.Argument(..., help="Folder of gold annotations (format of ../shared/corpus/gold)."),
    db: Optional[str] = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    details: bool = typer.Option(False, "--details", help="List false positives and misses per document."),
) -> None:
    """Score the analysed database against gold annotations (entities and events: precision, recall, F1, date exactness)."""
    import json

    from .evaluate import evaluate

    store = _open(db)
    result = evaluate(store, gold_dir)
    summary = result.summary()
    if as_json:
        console.print_json(json.dumps(summary))
        return
    table = Table("document", "metric", "P", "R", "F1", "tp", "fp", "fn")
    for key in result.per_doc:
        for metric, c in (("entities", result.per_doc[key]), ("events", result.per_doc_events[key])):
            table.add_row(key, metric, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.tp), str(c.fp), str(c.fn))
    for metric, c in (("entities", result.entities), ("events", result.events)):
        table.add_row("[bold]overall", metric, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.tp), str(c.fp), str(c.fn))
    console.print(table)
    if result.missing:
        err.print(f"[yellow]documents in the gold but not in the database:[/] {', '.join(result.missing)}")
    if details:
        for key, errs in result.errors.items():
            console.print(f"[bold]{key}[/] false positives: {escape(', '.join(errs['false_positives']) or '-')}")
            console.print(f"[bold]{key}[/] missed: {escape(', '.join(errs['missed']) or '-')}")
    console.print("overall: " + " ".join(f"{k}={v}" for k, v in summary.items()))


@app.command()
def demo(
    corpus: str = typer.Option(os.environ.get("ATLAS_DEMO_CORPUS", DEFAULT_DEMO_CORPUS), help="Folder of demo documents."),
    out_dir: str = typer.Option("atlas-demo", "--out", help="Folder for atlas.db and atlas.json."),
    gold: Optional[str] = typer.Option(None, help="Gold folder to score against (default: corpus/../gold when present)."),
    db: Optional[str] = typer.Option(None, "--db", help="Database path or URL to fill (default: OUT/atlas.db; $ATLAS_DB is not used).",
                                     show_default=False),
) -> None:
    """Ingest and analyse the demo corpus; write OUT/atlas.db and OUT/atlas.json and print a summary."""
    from .demo import run_demo

    if not Path(corpus).is_dir():
        raise AtlasError(f"demo corpus folder '{corpus}' not found; "
                         "point at a folder of documents with --corpus DIR (or set ATLAS_DEMO_CORPUS)")
    with _progress("demo") as (advance, set_total):
        result = run_demo(corpus, out_dir, gold, progress=advance, on_total=set_total, db=db)
    for failure in result.ingest.failed:
        err.print(f"[red]failed:[/] {escape(str(failure))}")
    table = Table("document", "title", "lang", "words", "published", "authors", "mentions", "actors", "most named",
                  title="Influence Atlas demo")
    for row in result.rows:
        table.add_row(*[escape(str(v)) for v in row])
    console.print(table)
    console.print(f"database: {result.db}\nexport:   {result.export}")
    if result.scores:
        console.print("gold scores: " + " ".join(f"{k}={v}" for k, v in result.scores.items()))


@app.command()
def checkworthiness(
    tsv: str = typer.Argument(..., metavar="FILE.tsv", help="CheckThat!-format TSV: Sentence_id<TAB>Text[<TAB>...] per line, header allowed."),
    threshold: Optional[float] = typer.Option(None, help="Score at or above which a sentence is Yes (default: the tuned threshold)."),
    language: str = typer.Option("en", help="Language of the sentences, for the head's cue words (ontology/voice.yaml): en or fr."),
) -> None:
    """Score each sentence of a CheckThat! TSV for check-worthiness; print Sentence_id<TAB>score<TAB>Yes|No."""
    from .extract.checkworthiness import THRESHOLD, is_checkworthy, read_checkthat_tsv, score_sentences

    cut = THRESHOLD if threshold is None else threshold
    rows = read_checkthat_tsv(tsv)
    scores = score_sentences([r.text for r in rows], language)
    _print_lines(f"{row.sentence_id}\t{score:.4f}\t{'Yes' if is_checkworthy(score, cut) else 'No'}" for row, score in zip(rows, scores))


@app.command()
def serve(
    db: Optional[str] = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; the default serves this machine only (the app has no login)."),
    port: int = typer.Option(8765, "--port", help="Port to listen on."),
    allowed_hosts: Optional[List[str]] = typer.Option(None, "--allowed-host", help="Another name the server may be reached "
                                                      "by (repeatable; this machine's loopback names always are). Requests "
                                                      "naming any other host are refused (DNS rebinding).", show_default=False),
    allow_edits: bool = typer.Option(False, "--allow-edits", help="Let analysts correct records from the app (forms on the "
                                     "document, timeline and contradiction views; POST /api/corrections). Read-only without it."),
) -> None:
    """Serve the web app (timeline, actor network, narratives, contradictions, map, documents) and its JSON API under /api/.

    On a non-loopback address every request needs an access token: $ATLAS_TOKEN, else a new one printed at start."""
    from .web import serve as run_serve
    from .web.security import LOOPBACK_HOSTS, new_token

    store = _open(db)
    token = None
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    if host not in LOOPBACK_HOSTS:
        token = os.environ.get("ATLAS_TOKEN") or new_token()
        err.print(f"[yellow]note:[/] serving on {escape(host)}: every request needs the access token; open "
                  f"{escape(url)}?token={escape(token)} once, or send `Authorization: Bearer TOKEN`")
    console.print(f"Influence Atlas on {escape(url)} (API: /docs); Ctrl-C stops it")
    if allow_edits:
        console.print("analyst corrections are allowed (--allow-edits): each is stored with who made it" +
                      (" and needs the access token" if token else ""))
    run_serve(host=host, port=port, store=store, allowed_hosts=tuple(allowed_hosts or ()), token=token, allow_edits=allow_edits)


@app.command()
def report(
    out: str = typer.Argument(..., help="HTML file to write."),
    db: Optional[str] = DbOption,
) -> None:
    """Write every view of the web app into one self-contained HTML file that opens offline, with no server."""
    from .report import write_report

    store = _open(db)
    try:
        path = write_report(store, out)
    except (AtlasError, OSError) as exc:
        _fail(exc if isinstance(exc, AtlasError) else AtlasError(f"cannot write {out}: {exc}"))
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


def _use_narratives(path: Optional[str]) -> None:
    """Check the narrative taxonomy file and make it the one analysis uses ($ATLAS_NARRATIVES, part of the analysis version)."""
    from .ontology.narratives import load_taxonomy

    if path:
        os.environ["ATLAS_NARRATIVES"] = str(Path(path).resolve())
    load_taxonomy()


narratives_app = typer.Typer(
    help="List the narrative taxonomy and each document's narratives (endorsed or reported); --discover proposes new ones; "
         "`classify` labels a folder of articles (SemEval-2025 Task 10 subtask 2).",
    invoke_without_command=True,
)
app.add_typer(narratives_app, name="narratives")


@narratives_app.callback()
def narratives(
    ctx: typer.Context,
    discover: bool = typer.Option(False, "--discover", help="Cluster stored sentences the taxonomy does not cover into candidate narratives."),
    db: Optional[str] = DbOption,
    narratives_file: Optional[str] = NarrativesOption,
    min_size: int = typer.Option(3, "--min-size", help="Smallest cluster to show (with --discover)."),
    limit: int = typer.Option(10, "--limit", help="Most candidate clusters to show (with --discover)."),
) -> None:
    """List the narrative taxonomy and each document's narratives (endorsed or reported); --discover proposes new ones."""
    from rich.text import Text

    from .ontology.narratives import load_taxonomy
    from .queries import narrative_rows

    if ctx.invoked_subcommand:
        return
    taxonomy = load_taxonomy(narratives_file)
    store = _open(db)
    if discover:
        from .queries import discover_in_store

        with _progress("splitting sentences", total=len(store.document_names())) as (advance, _):
            found, read = discover_in_store(store, taxonomy, min_size, limit, advance)
        if not found:
            console.print(f"no candidate narratives: every cluster of {read} sentences is covered or smaller than {min_size}")
            return
        for k, cand in enumerate(found, 1):
            table = Table("representative sentences", show_header=True, show_lines=True,
                          title=escape(f"candidate {k}: {cand.label} — {cand.count} sentences in {cand.documents} document(s); "
                                       f"nearest {cand.nearest} ({cand.similarity:.2f})"))
            for sentence in cand.sentences:
                table.add_row(Text(sentence))
            console.print(table)
        return
    table = Table("id", "name", "side", "meaning", title=escape(f"narrative taxonomy ({taxonomy.source})"), show_lines=True)
    for n in taxonomy.narratives:
        table.add_row(n.id, Text(n.name if n.parent is None else f"{n.name} (under {n.parent})"), n.side or "", Text(n.description))
    console.print(table)
    for label, side in taxonomy.sides.items():
        stands = [f"{verb} {', '.join(names)}" for verb, names in (("favours", side.favours), ("opposes", side.opposes)) if names]
        console.print(Text(f"side {label}: {'; '.join(stands)}"))
    if taxonomy.sides:
        console.print("a document hostile to what a side favours, or favourable to what it opposes, reports that side's narratives")
    rows = narrative_rows(store)
    if not rows:
        console.print("no narrative hits stored yet: run `atlas analyze` (with `--all` after changing the taxonomy)")
        return
    known = taxonomy.by_id()
    table = Table("document", "narrative", "mode", "score", "evidence", show_lines=True)
    for r in rows:
        h = r.hit
        label = f"{h.narrative} {known[h.narrative].name}" if h.narrative in known else h.narrative
        table.add_row(Text(r.document), Text(label), h.mode, f"{h.score:.2f}", Text(r.quote))
    console.print(table)


@narratives_app.command("classify")
def narratives_classify(
    articles_dir: str = typer.Argument(..., help="Folder of articles, one UTF-8 .txt file each."),
    out: str = typer.Argument(..., help="File to write: one 'article<TAB>narratives<TAB>sub-narratives' line per article."),
    narratives_file: Optional[str] = NarrativesOption,
) -> None:
    """Label every article with the taxonomy's narratives and sub-narratives (SemEval-2025 Task 10 subtask-2 lines:
    ids `;`-separated, Other when none)."""
    from .extract.narratives import classify_articles, write_subtask2
    from .ontology.narratives import load_taxonomy

    rows = classify_articles(articles_dir, load_taxonomy(narratives_file))
    write_subtask2(rows, out)
    labelled = sum(1 for _, n, _ in rows if n)
    console.print(f"wrote {len(rows)} articles to {escape(out)} ({labelled} with a narrative, {len(rows) - labelled} Other)")


@app.command()
def coordination(
    posts: str = typer.Argument(..., help="Posts file: .csv, .tsv, .jsonl or .parquet; one row per post (or per post and shared object)."),
    db: Optional[str] = DbOption,
    account: str = typer.Option("account", "--account", help="Column naming the account that posted."),
    time_column: str = typer.Option("time", "--time", help="Column with the post time: epoch seconds (or milliseconds) or ISO 8601."),
    object_column: str = typer.Option("object", "--object", help="Column with the shared object: URL, reposted post id, hashtag. Empty cells share nothing."),
    text: Optional[str] = typer.Option(None, "--text", help="Column with the post text (needed by --mode co-text)."),
    post_id: Optional[str] = typer.Option(None, "--id", help="Column with the post id: a post listed once per object counts once."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Input format when the suffix does not tell: csv, tsv, jsonl or parquet."),
    mode: str = typer.Option("co-share", "--mode", help="co-share: the same object within the window; co-text: near-duplicate texts within the window."),
    window: Optional[float] = typer.Option(None, "--window", help="Coordination window in seconds; without it, estimated from the data (--quantile, --share)."),
    quantile: float = typer.Option(0.1, "--quantile", help="Window estimate: this quantile of the per-object times to reach --share of their shares."),
    share: float = typer.Option(0.5, "--share", help="Window estimate: the fraction of an object's shares whose arrival time is measured."),
    min_repeat: int = typer.Option(2, "--min-repeat", help="Keep account pairs that acted together at least this many times."),
    similarity: float = typer.Option(0.8, "--similarity", help="co-text: Jaccard similarity of the texts' word sets needed to match (0-1)."),
    directed: bool = typer.Option(False, "--directed", help="Directed weights as coordination-network-toolkit counts them: posts of A matched by B."),
    method: str = typer.Option("leiden", "--method", help="Clusters: leiden or louvain communities on the weighted graph, or components."),
    resolution: float = typer.Option(1.0, "--resolution", help="Community resolution: higher values give smaller clusters."),
    seed: int = typer.Option(7, "--seed", help="Random seed of the community search (same seed, same clusters)."),
    edges_out: Optional[str] = typer.Option(None, "--edges-out", help="Write the edges here as CSV: account_a,account_b,weight."),
    graph_out: Optional[str] = typer.Option(None, "--graph-out", help="Write the network here as .gexf (Gephi) or .graphml."),
    json_out: Optional[str] = typer.Option(None, "--json-out", help="Write settings, input report, clusters and edges here as JSON."),
    top: int = typer.Option(15, "--top", min=0, help="How many clusters to list in the table."),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="Drop (and count) rows without a usable account or timestamp instead of stopping."),
    store_run: bool = typer.Option(True, "--store/--no-store", help="Keep the run in the database beside the document analysis."),
) -> None:
    """Find accounts acting in concert in social-media posts: co-sharing or co-text network, clusters, exports."""
    from .coordination import CoordinationSettings, PostColumns, detect_coordination

    columns = PostColumns(account=account, time=time_column, object=object_column if mode == "co-share" else None,
                          text=text, post_id=post_id)
    settings = CoordinationSettings(mode=mode, window=window, quantile=quantile, share=share, min_repeat=min_repeat,
                                    directed=directed, similarity=similarity, method=method, resolution=resolution, seed=seed)
    bar_columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*bar_columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("reading posts", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total if total > 1 else None)

        result = detect_coordination(posts, columns, settings, fmt=fmt, skip_bad_rows=skip_bad_rows, progress=progress)
    written = _write_coordination(result, edges_out, graph_out, json_out)
    stored = None
    if store_run:
        from .store.coordination import save_coordination

        stored = save_coordination(_open(db), result)
    _print_coordination(result, top)
    for path in written:
        console.print(f"wrote {escape(str(path))}")
    if stored:
        console.print(f"stored as {stored}")


def _write_coordination(result, edges_out: Optional[str], graph_out: Optional[str], json_out: Optional[str]) -> list:
    """Write the files a coordination run was asked for; return their paths."""
    from .coordination import write_edges_csv, write_graph, write_json

    written = []
    if edges_out:
        written.append(write_edges_csv(result.edges, edges_out))
    if graph_out:
        written.append(write_graph(result.edges, result.clusters, graph_out))
    if json_out:
        written.append(write_json(result, json_out))
    return written


def _print_coordination(result, top: int) -> None:
    """Print what a coordination run read, the window, the network and its largest clusters."""
    report, edges, found = result.report, result.edges, result.clusters
    for note in report.notes():
        err.print(f"[yellow]note:[/] {escape(note)}")
    console.print(f"read {report.posts:,} posts by {report.accounts:,} accounts from {escape(report.source)} "
                  f"({report.format}, times as {report.time_format})")
    how = (f"estimated: {result.estimate.quantile:g} quantile over {result.estimate.objects:,} objects of the time to "
           f"{result.estimate.share:.0%} of their shares" if result.estimate else "given")
    console.print(f"window {result.window:g} s ({how})")
    console.print(f"{edges.mode}: {edges.candidate_pairs:,} candidate post pairs → {edges.frame.height:,} "
                  f"{'directed ' if edges.directed else ''}edges with weight ≥ {edges.min_repeat} "
                  f"(weight = {escape(edges.weight_meaning)})")
    console.print(f"{len(found.clusters):,} clusters ({found.method}) among {found.membership.height:,} accounts "
                  f"in {found.components:,} connected components"
                  + (f", modularity {found.modularity:.3f}" if found.modularity is not None else ""))
    if found.clusters:
        table = Table("#", "cluster", "accounts", "edges", "weight", "max", "density", "objects", "first", "last",
                      "most shared", title="Coordinated clusters")
        for c in found.clusters[:top]:
            first = c.objects[0] if c.objects else None
            table.add_row(str(c.rank), c.id, str(c.size), str(c.edges), str(c.weight_total), str(c.weight_max),
                          f"{c.density:.2f}", str(c.objects_total), (c.first or "")[:16], (c.last or "")[:16],
                          escape(f"{first.item[:60]} ({first.accounts} accounts)") if first else "")
        console.print(table)
        if len(found.clusters) > top:
            console.print(f"… and {len(found.clusters) - top:,} more (--top N, --json-out FILE)")


stance_app = typer.Typer(
    help="Stance toward named targets: score NewsMTSC-format sentences with the stance stage's target-sentiment model.",
    no_args_is_help=True,
)
app.add_typer(stance_app, name="stance")


@stance_app.command("score")
def stance_score(
    jsonl: str = typer.Argument(..., metavar="FILE.jsonl", help="NewsMTSC-format JSON lines: sentence, from, to, id per line."),
) -> None:
    """Print id<TAB>polarity (-1, 0 or 1) for the target of each line: how the sentence treats it."""
    from .extract.target_sentiment import score_target_file

    _print_lines(f"{rid}\t{polarity}" for rid, polarity in score_target_file(jsonl))


techniques_app = typer.Typer(
    help="Persuasion techniques (SemEval-2020 Task 11): find propaganda spans and label their technique.",
    no_args_is_help=True,
)
app.add_typer(techniques_app, name="techniques")


@techniques_app.command("spans")
def techniques_spans(
    articles_dir: str = typer.Argument(..., help="Folder of article<ID>.txt files."),
    out: str = typer.Argument(..., help="File to write: one 'article_id<TAB>start<TAB>end' line per span."),
) -> None:
    """Find the spans that use a persuasion technique in every article (task SI format)."""
    from .extract.techniques import write_span_predictions

    with _progress("finding spans") as (advance, _):
        count = write_span_predictions(articles_dir, out, progress=advance)
    console.print(f"wrote {count} spans to {escape(out)}")


@techniques_app.command("classify")
def techniques_classify(
    articles_dir: str = typer.Argument(..., help="Folder of article<ID>.txt files."),
    spans_file: str = typer.Argument(..., help="Spans to label: 'article_id<TAB>start<TAB>end' lines."),
    out: str = typer.Argument(..., help="File to write: one 'article_id<TAB>technique<TAB>start<TAB>end' line per span."),
) -> None:
    """Label each given span with one of the 14 persuasion techniques (task TC format)."""
    from .extract.techniques import write_technique_predictions

    with _progress("classifying spans") as (advance, _):
        count = write_technique_predictions(articles_dir, spans_file, out, progress=advance)
    console.print(f"wrote {count} labelled spans to {escape(out)}")


@techniques_app.command("summary")
def techniques_summary(
    db: Optional[str] = DbOption,
    by: str = typer.Option("document", "--by", help="One row per document, or per source (the outlet, else the web site, "
                           "else the file name)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table (for reading), csv (one column per technique and DISARM "
                            "technique) or json."),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Write csv/json here instead of standard output.", show_default=False),
) -> None:
    """Count the persuasion techniques each source uses and the DISARM techniques it describes, per document or per source."""
    from rich.text import Text

    from .technique_summary import FORMATS, summarize_techniques

    if fmt not in FORMATS:
        raise AtlasError(f"--format must be one of {', '.join(FORMATS)}")
    store = _open(db)
    summary = summarize_techniques(store, by)
    if fmt != "table":
        body = summary.csv_text() if fmt == "csv" else summary.json_text()
        if out:
            Path(out).write_text(body, encoding="utf-8")
            err.print(f"wrote {escape(out)}")
        else:
            sys.stdout.write(body)
            sys.stdout.flush()
        return
    if not summary.rows:
        console.print("no documents: run `atlas ingest PATH` and `atlas analyze` first")
        return

    def top(counts, names=None, n=5) -> Text:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = [f"{k}{' ' + names[k] if names and k in names else ''} {v}" for k, v in ranked[:n]]
        return Text(", ".join(shown) + (f", +{len(ranked) - n} more" if len(ranked) > n else ""))

    def looked_for(row) -> str:
        done = row.status["analysed"]
        if row.documents == 1:
            status = row.status_text()
            return "yes" if done else {"unsupported_language": "no: language", "skipped": "no: skipped"}.get(status, "not analysed")
        return f"{done} of {row.documents} docs"

    columns = ["document"] if by == "document" else ["source", "docs"]
    table = Table(*columns, "lang", "words", "looked for", "persuasion techniques", "per 1k words", "most used", "DISARM",
                  "DISARM techniques", title="Persuasion techniques (SemEval-2020 Task 11) and DISARM techniques", show_lines=True)
    for row in [*summary.rows, summary.totals]:
        total = sum(row.techniques.values())
        looked = row.status["analysed"] > 0
        first = [Text(row.label, style="bold" if row is summary.totals else "")]
        if by != "document":
            first.append(str(row.documents))
        elif row is summary.totals:
            first[0].append(f" ({row.documents} docs)")
        table.add_row(*first, ",".join(sorted(row.languages)), str(row.words), looked_for(row), str(total) if looked else "—",
                      f"{1000 * total / row.words:.1f}" if looked and row.words else "", top(row.techniques),
                      str(sum(row.ttps.values())), top(row.ttps, summary.disarm))
    console.print(table)
    for note in summary.notes():
        console.print(f"[yellow]note:[/] {escape(note)}")


events_app = typer.Typer(
    help="ACLED event coding of sentences: the event type and sub-event type of news snippets (CASE 2021 Task 2).",
    no_args_is_help=True,
)
app.add_typer(events_app, name="events")


@events_app.command("classify")
def events_classify(
    tsv: str = typer.Argument(..., metavar="FILE.tsv", help="CASE 2021 Task 2 TSV: id<TAB>EventSnippet[<TAB>SubType] per line, header allowed."),
) -> None:
    """Code each snippet of a CASE 2021 Task 2 TSV with ACLED's sub-event type; print id<TAB>SubType<TAB>probability<TAB>event|none."""
    from .extract.acled import classify_case_file

    _print_lines(f"{row.snippet_id}\t{label.code}\t{label.probability:.4f}\t{'event' if label.is_event else 'none'}"
                 for row, label in classify_case_file(tsv))


correct_app = typer.Typer(
    help="Analyst corrections that survive re-analysis: reject, edit, merge, confirm, link; list, undo, share as a file.",
    no_args_is_help=True,
)
app.add_typer(correct_app, name="correct")

WhoOption = typer.Option(None, "--who", help="Who makes the correction (default: $ATLAS_USER).", show_default=False)
ReasonOption = typer.Option("", "--reason", help="Why: kept with the correction and shown beside the record.")
KindArgument = typer.Argument(..., help="Record kind: event, claim, link, stance, narrative, technique, ttp, mention.")
RefArgument = typer.Argument(..., help="The record: EVENT_ID, CLAIM_ID or LINK_ID (as the export and the web app show them); "
                             "DOC/ACTOR (stance), DOC/NARRATIVE or DOC/NARRATIVE/MODE, DOC/START-END, optionally followed by "
                             "/TECHNIQUE or /DISARM_ID (DOC: id, unique id prefix or name).")


def _correct(db: Optional[str], operation: str, kind: str, ref, fields: dict | None, who: Optional[str], reason: str) -> None:
    from .corrections import add_correction

    store = _open(db)
    done = add_correction(store, operation, kind, ref, fields, who or os.environ.get("ATLAS_USER"), reason)
    console.print(f"{done.id}: {done.operation} {escape(done.key)} ({done.state}); `atlas correct undo {done.id}` withdraws it")


@correct_app.command("reject")
def correct_reject(kind: str = KindArgument, ref: str = RefArgument, db: Optional[str] = DbOption, who: Optional[str] = WhoOption,
                   reason: str = ReasonOption) -> None:
    """Reject a record (a false event, claim, contradiction, narrative, stance, technique, mention): it leaves every view and export."""
    _correct(db, "reject", kind, ref, None, who, reason)


@correct_app.command("edit")
def correct_edit(kind: str = KindArgument, ref: str = RefArgument,
                 values: List[str] = typer.Option(..., "--set", help="FIELD=VALUE (repeatable; VALUE null clears). Event: type, "
                                                  "date (YYYY, YYYY-MM or YYYY-MM-DD), location, fatalities, actors (NAME or NAME:ROLE, "
                                                  "comma-separated); claim: "
                                                  "attributed_to, hedged; stance: score (-2..2); narrative: mode (endorsed|reported)."),
                 db: Optional[str] = DbOption, who: Optional[str] = WhoOption, reason: str = ReasonOption) -> None:
    """Edit fields of a record: an event's type, date, place, toll or actors; a claim's source; a stance score; a narrative's mode."""
    fields = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _fail(AtlasError(f"--set {item!r}: use FIELD=VALUE"))
        fields[name.strip()] = value
    _correct(db, "edit", kind, ref, fields, who, reason)


@correct_app.command("merge")
def correct_merge(actor: str = typer.Argument(..., help="Actor to merge away (canonical name)."),
                  into: str = typer.Argument(..., help="Actor that stays (canonical name)."),
                  db: Optional[str] = DbOption, who: Optional[str] = WhoOption, reason: str = ReasonOption) -> None:
    """Merge two actors: mentions, events, claim sources and stances of ACTOR go to INTO, whose aliases gain ACTOR."""
    _correct(db, "merge", "actor", actor, {"into": into}, who, reason)


@correct_app.command("split")
def correct_split(actor: str = typer.Argument(..., help="Actor an alias was wrongly linked to (canonical name)."),
                  alias: str = typer.Argument(..., help="The alias, as the mentions read it."),
                  into: Optional[str] = typer.Option(None, "--into", help="Actor the alias names (default: the alias itself).",
                                                     show_default=False),
                  db: Optional[str] = DbOption, who: Optional[str] = WhoOption, reason: str = ReasonOption) -> None:
    """Split an alias off an actor: its mentions (and the events and claims told through them) go to an actor of its own."""
    _correct(db, "split", "actor", actor, {"alias": alias, "into": into or alias}, who, reason)


@correct_app.command("confirm")
def correct_confirm(kind: str = typer.Argument(..., help="Record kind (as for reject), or actor."), ref: str = RefArgument,
                    db: Optional[str] = DbOption, who: Optional[str] = WhoOption, reason: str = ReasonOption) -> None:
    """Confirm a record as right: its review state becomes confirmed in the views and exports."""
    _correct(db, "confirm", kind, ref, None, who, reason)


@correct_app.command("link")
def correct_link(kind: str = typer.Argument(..., help="Link kind: same_event (events), contradicts or corroborates (claims)."),
                 items: List[str] = typer.Argument(..., help="Two or more event or claim ids."),
                 db: Optional[str] = DbOption, who: Optional[str] = WhoOption, reason: str = ReasonOption) -> None:
    """Add a missing cross-document link: the same event told twice, or claims that contradict or corroborate each other."""
    _correct(db, "add_link", kind, list(items), None, who, reason)


@correct_app.command("narrative")
def correct_narrative(doc: str = typer.Argument(..., help="Document id, unique id prefix or name."),
                      narrative: str = typer.Argument(..., help="Narrative id of the taxonomy (see `atlas narratives`)."),
                      span: List[str] = typer.Option(..., "--span", help="START-END of the words that carry it (repeatable)."),
                      mode: str = typer.Option("endorsed", "--mode", help="endorsed (the source's own voice) or reported."),
                      db: Optional[str] = DbOption, who: Optional[str] = WhoOption, reason: str = ReasonOption) -> None:
    """Add a narrative the analysis missed to a document, pointing at the words that carry it."""
    _correct(db, "add_narrative", "narrative", f"{doc}/{narrative}", {"mode": mode, "evidence": list(span)}, who, reason)


@correct_app.command("list")
def correct_list(db: Optional[str] = DbOption,
                 state: Optional[str] = typer.Option(None, "--state", help="Only corrections in this state: applied, orphaned or undone.",
                                                     show_default=False)) -> None:
    """List the corrections in the order they were made, with their state (orphaned: the target is gone since re-analysis)."""
    from rich.text import Text

    from .corrections import STATES, list_corrections

    if state and state not in STATES:
        _fail(AtlasError(f"unknown state '{state}': use one of {', '.join(STATES)}"))
    store = _open(db)
    found = list_corrections(store, states=[state] if state else None)
    if not found:
        console.print("no corrections" + (f" in state {state}" if state else ""))
        return
    table = Table("id", "when", "who", "operation", "target", "fields", "reason", "state", show_lines=True)
    for c in found:
        fields = ", ".join(f"{k}={v}" for k, v in c.fields.items() if k != "items")
        target = re.sub(r"\b([0-9a-f]{12})[0-9a-f]{52}\b", r"\1…", c.key)  # document ids shortened
        table.add_row(c.id, c.when[:19], Text(c.who), c.operation, Text(target), Text(fields), Text(c.reason),
                      f"[red]{c.state}[/]" if c.state == "orphaned" else c.state)
    console.print(table)
    orphans = sum(c.state == "orphaned" for c in found)
    if orphans:
        err.print(f"[yellow]note:[/] {orphans} orphaned correction(s): their record is gone since re-analysis; check them, "
                  "then undo them or correct the new record")


@correct_app.command("undo")
def correct_undo(correction_id: str = typer.Argument(..., help="Correction id (see `atlas correct list`)."),
                 db: Optional[str] = DbOption) -> None:
    """Withdraw a correction: it is kept as undone and the documents it touched are analysed again by the next `atlas analyze`."""
    from .corrections import undo

    store = _open(db)
    done, docs = undo(store, correction_id)
    console.print(f"{done.id} undone" + (f"; run `atlas analyze` to restore the extracted records of {len(docs)} document(s)" if docs else ""))


@correct_app.command("export")
def correct_export(out: str = typer.Argument(..., help="JSON file to write."), db: Optional[str] = DbOption) -> None:
    """Write every correction to a JSON file a team can share (`atlas correct import` reads it)."""
    import json

    from .corrections import export_corrections

    store = _open(db)
    data = export_corrections(store)
    try:
        Path(out).write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(AtlasError(f"cannot write {out}: {exc}"))
    console.print(f"wrote {len(data['corrections'])} correction(s) to {escape(out)}")


@correct_app.command("import")
def correct_import(path: str = typer.Argument(..., help="Corrections file written by `atlas correct export`."),
                   db: Optional[str] = DbOption) -> None:
    """Add the corrections of a shared file that this database lacks, applying each one; print those whose target is missing."""
    import json

    from .corrections import import_corrections

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _fail(AtlasError(f"cannot read corrections from {path}: {exc}"))
    store = _open(db)
    added, held = import_corrections(store, data)
    orphans = [c for c in added if c.state == "orphaned"]
    for c in orphans:
        err.print(f"[yellow]orphaned:[/] {c.id} {c.operation} {escape(c.key)}: no such record in this database")
    console.print(f"imported {len(added)} correction(s) ({len(orphans)} orphaned), {held} already here")


def run() -> None:
    """Entry point that turns AtlasErrors and unexpected errors into one readable line and exit code 2."""
    try:
        app()
    except AtlasError as exc:  # raised outside a command (the group reports those inside one)
        _report_error(exc)
        sys.exit(2)
    except Exception as exc:  # a bug of ours: say so in one line; --debug shows where
        if os.environ.get("ATLAS_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {escape(printable(f'{type(exc).__name__}: {exc}'))} "
                  "(a bug in Influence Atlas; rerun with `atlas --debug ...` for the traceback and report it)")
        sys.exit(2)
