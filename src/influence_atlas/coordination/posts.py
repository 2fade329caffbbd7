"""Read social-media posts (CSV, JSONL or Parquet) into one checked table, counting whatever is dropped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ..errors import InputError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
# Tried in order on timestamps that are not plain numbers; naive times are taken as UTC.
TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%a %b %d %H:%M:%S %z %Y",  # Twitter API v1.1 created_at
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
)
EPOCH_MS_ABOVE = 1e11  # epoch seconds this large would be after the year 5000: the column holds milliseconds


@dataclass(frozen=True, slots=True)
class PostColumns:
    """Which input column holds what; `object`, `text` and `post_id` may be absent (None)."""

    account: str = "account"
    time: str = "time"
    object: str | None = "object"
    text: str | None = None
    post_id: str | None = None

    def used(self) -> list[str]:
        """Return the column names to read, in a fixed order, without repeats."""
        names = [self.account, self.time, self.object, self.text, self.post_id]
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What reading the posts found: counts of everything kept, merged or left out."""

    source: str
    format: str
    sha256: str
    rows: int  # data rows in the input
    posts: int  # rows kept
    accounts: int
    duplicates: int  # exact repeats of an earlier row (over the columns used), dropped
    first_duplicate_row: int | None
    bad_rows: int  # rows without a usable account or timestamp, dropped with --skip-bad-rows
    missing_object: int  # kept rows without an object: they take no part in co-sharing
    missing_text: int  # kept rows without text: they take no part in co-text
    time_format: str  # how the timestamps were read

    def notes(self) -> list[str]:
        """Return one line per thing the user should know about the input (drops, merges, blanks)."""
        lines = []
        if self.duplicates:
            lines.append(f"dropped {self.duplicates} duplicate row(s) (first at row {self.first_duplicate_row})")
        if self.bad_rows:
            lines.append(f"dropped {self.bad_rows} row(s) without a usable account or timestamp")
        if self.missing_object:
            lines.append(f"{self.missing_object} post(s) have no object and take no part in co-sharing")
        if self.missing_text:
            lines.append(f"{self.missing_text} post(s) have no text and take no part in co-text")
        return lines


@dataclass(frozen=True, eq=False)
class Posts:
    """Checked posts. `frame` columns: row (1-based input row), account, acc (account code), time (µs since
    the epoch, UTC), object, text, post_id. `accounts[code]` is the account name; codes follow name order."""

    frame: pl.DataFrame
    accounts: pl.Series
    columns: PostColumns
    report: LoadReport


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower().lstrip(".")
        if fmt not in set(FORMATS.values()):
            raise InputError(str(path), f"unknown format '{fmt}'; use one of csv, tsv, jsonl, parquet")
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if not found:
        raise InputError(str(path), f"cannot tell the format from the suffix '{path.suffix}'; "
                                    "name the file .csv/.tsv/.jsonl/.parquet or pass --format")
    return found


def _read_table(path: Path, fmt: str, wanted: list[str]) -> pl.DataFrame:
    """Read the wanted columns as they are in the file (strings for CSV); names missing columns clearly."""
    source = str(path)
    if path.stat().st_size == 0:
        raise InputError(source, "the file is empty; it needs a header row and at least one post")
    try:
        if fmt in ("csv", "tsv"):
            sep = "\t" if fmt == "tsv" else ","
            header = pl.read_csv(path, n_rows=0, separator=sep, infer_schema=False).columns
            _check_columns(source, wanted, header)
            frame = pl.read_csv(path, columns=wanted, separator=sep, infer_schema=False)
        elif fmt == "jsonl":
            frame = pl.read_ndjson(path, infer_schema_length=None)
            _check_columns(source, wanted, frame.columns)
            frame = frame.select(wanted)
        else:
            _check_columns(source, wanted, list(pl.read_parquet_schema(path)))
            frame = pl.read_parquet(path, columns=wanted)
    except InputError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InputError(source, f"cannot read it as {fmt}: {str(exc).splitlines()[0]}") from exc
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    if nested:
        raise InputError(source, f"column(s) {', '.join(nested)} hold lists or structs, not single values: "
                                 "flatten them (one row per account and object) before reading")
    return frame


def _check_columns(source: str, wanted: list[str], present: list[str]) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise InputError(source, f"no column {', '.join(repr(c) for c in missing)}; the file has "
                                 f"{', '.join(present) or 'no columns'}. Name the right ones with "
                                 "--account/--time/--object/--text/--id")


def parse_times(values: pl.Series) -> tuple[pl.Series, str]:
    """Return (microseconds since the epoch as Int64, null where unreadable; a description of the format found)."""
    dtype = values.dtype
    if dtype.is_numeric():
        seconds = values.cast(pl.Float64)
        return _epoch(seconds)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            values = values.dt.replace_time_zone("UTC")
        return values.dt.convert_time_zone("UTC").dt.cast_time_unit("us").dt.epoch("us"), "datetime"
    if isinstance(dtype, pl.Date):
        return values.cast(pl.Datetime("us")).dt.epoch("us"), "date"
    text = values.cast(pl.String).str.strip_chars()
    numbers = text.cast(pl.Float64, strict=False)
    filled = text.is_not_null() & (text != "")
    if int((numbers.is_null() & filled).sum()) == 0:
        return _epoch(numbers)
    parsed = pl.Series(values.name, [None] * len(text), dtype=pl.Datetime("us", "UTC"))
    for fmt in TIME_FORMATS:
        todo = parsed.is_null() & filled & numbers.is_null()
        if not todo.any():
            break
        attempt = text.str.to_datetime(format=fmt, strict=False, time_zone="UTC", time_unit="us")
        parsed = parsed.fill_null(attempt)
    micros = parsed.dt.epoch("us")
    epoch, unit = _epoch(numbers)
    kinds = ["ISO 8601 / date-time text"] + ([unit] if epoch.is_not_null().any() else [])
    return micros.fill_null(epoch), " and ".join(kinds)


def _epoch(seconds: pl.Series) -> tuple[pl.Series, str]:
    finite = seconds.filter(seconds.is_finite())
    scale, unit = (1_000.0, "epoch milliseconds") if len(finite) and float(finite.abs().max()) > EPOCH_MS_ABOVE else (1e6, "epoch seconds")
    micros = (seconds * scale).round(0)
    micros = pl.Series(seconds.name, micros.to_numpy(), dtype=pl.Float64)
    return micros.fill_nan(None).cast(pl.Int64, strict=False), unit


def load_posts(path: str | Path, columns: PostColumns = PostColumns(), *, fmt: str | None = None,
               skip_bad_rows: bool = False) -> Posts:
    """Return the checked posts of a CSV/TSV, JSONL or Parquet file; raise InputError naming the row or column at fault."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    found = _detect_format(path, fmt)
    frame = _read_table(path, found, columns.used())
    return posts_from_frame(frame, columns, source=str(path), fmt=found, sha256=_file_sha256(path),
                            skip_bad_rows=skip_bad_rows)


def _clean_text(values: pl.Series) -> pl.Series:
    """Strings with surrounding blanks removed; empty becomes missing (never a shared value)."""
    text = values.cast(pl.String).str.strip_chars()
    return text.set(text == "", None) if (text == "").any() else text


def posts_from_frame(frame: pl.DataFrame, columns: PostColumns = PostColumns(), *, source: str = "<table>",
                     fmt: str = "table", sha256: str | None = None, skip_bad_rows: bool = False) -> Posts:
    """Return checked posts from an in-memory table with the named columns (same rules as load_posts)."""
    _check_columns(source, columns.used(), frame.columns)
    if frame.height == 0:
        raise InputError(source, "no posts: the file has a header but no rows")
    times, time_format = parse_times(frame[columns.time])
    table = pl.DataFrame({
        "row": pl.int_range(1, frame.height + 1, eager=True, dtype=pl.UInt32),
        "account": _clean_text(frame[columns.account]),
        "time": times,
        "object": _clean_text(frame[columns.object]) if columns.object else pl.repeat(None, frame.height, dtype=pl.String, eager=True),
        "text": frame[columns.text].cast(pl.String) if columns.text else pl.repeat(None, frame.height, dtype=pl.String, eager=True),
        "post_id": _clean_text(frame[columns.post_id]) if columns.post_id else pl.repeat(None, frame.height, dtype=pl.String, eager=True),
    })
    if columns.text:
        table = table.with_columns(pl.when(pl.col("text").str.strip_chars() == "").then(None).otherwise(pl.col("text")).alias("text"))

    bad = table["account"].is_null() | table["time"].is_null()
    bad_rows = int(bad.sum())
    if bad_rows and not skip_bad_rows:
        raise InputError(source, _bad_row_message(frame, table, columns, bad))
    if bad_rows:
        table = table.filter(~bad)
    if table.height == 0:
        raise InputError(source, "no usable posts: every row lacks an account or a timestamp")

    duplicated = _repeated_rows(table, ["account", "time", "object", "text", "post_id"])
    duplicates = int(duplicated.sum())
    first_duplicate = int(table["row"].filter(duplicated)[0]) if duplicates else None
    if duplicates:
        table = table.filter(~duplicated)

    codes, names = account_codes(table["account"])
    table = table.with_columns(acc=pl.Series(codes, dtype=pl.UInt32))
    report = LoadReport(
        source=source, format=fmt, sha256=sha256 or _frame_sha256(table), rows=frame.height, posts=table.height,
        accounts=len(names), duplicates=duplicates, first_duplicate_row=first_duplicate, bad_rows=bad_rows,
        missing_object=int(table["object"].is_null().sum()) if columns.object else 0,
        missing_text=int(table["text"].is_null().sum()) if columns.text else 0,
        time_format=time_format,
    )
    return Posts(frame=table, accounts=names, columns=columns, report=report)


def _bad_row_message(frame: pl.DataFrame, table: pl.DataFrame, columns: PostColumns, bad: pl.Series) -> str:
    no_account = table["account"].is_null()
    no_time = table["time"].is_null()
    parts = []
    if no_account.any():
        first = int(table["row"].filter(no_account)[0])
        parts.append(f"{int(no_account.sum())} row(s) have no account in column '{columns.account}' (first: row {first})")
    if no_time.any():
        first_index = int(np.flatnonzero(no_time.to_numpy())[0])
        raw = frame[columns.time][first_index]
        shown = "empty" if raw is None or str(raw).strip() == "" else repr(str(raw))
        parts.append(f"{int(no_time.sum())} row(s) have a timestamp in column '{columns.time}' that cannot be read "
                     f"(first: row {first_index + 1}, {shown}); use epoch seconds or ISO 8601 such as 2024-03-01T12:00:00Z")
    return "; ".join(parts) + ". Fix the file, or pass --skip-bad-rows to drop these rows (they are counted)"


def _repeated_rows(table: pl.DataFrame, columns: list[str]) -> pl.Series:
    """Return True for each row that repeats an earlier row exactly (over the given columns)."""
    hashed = table.select(columns).hash_rows(seed=0)
    suspects = ~hashed.is_first_distinct()
    if not suspects.any():
        return suspects
    # Confirm on the few rows whose hash repeats, so that a hash collision can never drop a post.
    same_hash = hashed.is_in(hashed.filter(suspects).implode())
    subset = table.filter(same_hash).select(columns)
    exact = ~subset.select(pl.struct(columns).is_first_distinct()).to_series()
    repeated = np.zeros(table.height, dtype=bool)
    repeated[np.flatnonzero(same_hash.to_numpy())[exact.to_numpy()]] = True
    return pl.Series("repeated", repeated)


def account_codes(accounts: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Return (a code per row, the names by code); codes are dense and follow the names' sort order."""
    unique, first, inverse = np.unique(accounts.hash(seed=0).to_numpy(), return_index=True, return_inverse=True)
    if len(unique) != accounts.n_unique():  # two names share a 64-bit hash: practically never, but stay exact
        names = accounts.unique().sort()
        lookup = pl.DataFrame({"account": names, "code": pl.int_range(0, len(names), eager=True, dtype=pl.UInt32)})
        codes = pl.DataFrame({"account": accounts}).join(lookup, on="account", how="left", maintain_order="left")["code"]
        return codes.to_numpy(), names
    names = accounts.gather(first)
    order = names.arg_sort().to_numpy()
    rank = np.empty(len(order), dtype=np.uint32)
    rank[order] = np.arange(len(order), dtype=np.uint32)
    return rank[inverse], names.gather(order)


def dense_codes(values: pl.Series) -> np.ndarray:
    """Return dense integer codes (0..n-1) for non-null values; equal values share a code."""
    hashed = values.hash(seed=0)
    if hashed.n_unique() != values.n_unique():  # a 64-bit hash collision: rank the values themselves
        return values.rank("dense").to_numpy().astype(np.int64) - 1
    return hashed.rank("dense").to_numpy().astype(np.int64) - 1


def _frame_sha256(table: pl.DataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(table.select(["account", "time", "object", "text", "post_id"]).hash_rows(seed=0).to_numpy().tobytes())
    return digest.hexdigest()
