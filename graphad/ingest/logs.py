"""Log readers: raw lines or table rows -> Drain3 templates -> canonical log events.

Templates are mined with `Drain3 <https://github.com/logpai/Drain3>`_ (an optional
dependency: ``pip install 'graphad[logs]'``), configured in code: no ``drain3.ini`` is
read, and numbers, hex strings, IP addresses (with ports) and UUIDs are masked before
mining (:data:`DEFAULT_MASKS`).

The result is the canonical log-events frame ``ts_ns, node, template, count`` of
:mod:`graphad.ingest.schema` (one row per event, or per time bin with ``bin_ns``) and an
:class:`~graphad.ingest.report.IngestReport` counting:

* ``continuation_line``: a line without a timestamp after an event (a stack trace, a
  wrapped message). It belongs to the previous event: it creates no event of its own and
  the event's template is mined from its first line.
* ``unparsed_log_line``: a line without a timestamp before any event, or whose timestamp
  cannot be read; it is left out of the frame (an input where *no* line can be read
  raises :class:`~graphad.exceptions.ParseError` instead: the pattern is wrong).
* ``blank_line``: an empty line, skipped.
* ``json_field_missing``: ``json_field`` could not be followed to its end; the last text
  reached is the message.
* ``empty_message``: an event with no text; its template is ``"<empty>"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError, ParseError, SchemaError
from graphad.ingest.io import (
    COMPRESSION_SUFFIXES,
    PathLike,
    check_source,
    inner_suffix,
    iter_lines,
    read_table,
)
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import (
    check_mapped_columns,
    columns_text,
    drop_implausible,
    validate_logs,
)
from graphad.ingest.time import TimeUnit, infer_unit, to_ns
from graphad.utils import import_optional

__all__ = [
    "LOG_FORMATS",
    "DEFAULT_MASKS",
    "DEFAULT_TIME_PATTERN",
    "make_template_miner",
    "mine_templates",
    "read_logs",
    "read_event_sequences",
]

#: Formats :func:`read_logs` understands: raw text lines, or a table (CSV/Parquet/frame).
LOG_FORMATS = ("auto", "text", "table")
#: ``(regex, mask name)`` pairs applied, in order, to every message before mining.
DEFAULT_MASKS: tuple[tuple[str, str], ...] = (
    (
        r"(?<![A-Za-z0-9])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
        r"-[0-9a-fA-F]{12}(?![A-Za-z0-9])",
        "UUID",
    ),
    (r"(?<![A-Za-z0-9.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![A-Za-z0-9]|\.\d)", "IP"),
    (
        r"(?<![A-Za-z0-9])(?:0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])"
        r"[0-9a-fA-F]{8,})(?![A-Za-z0-9])",
        "HEX",
    ),
    (r"(?<![A-Za-z0-9.])[-+]?\d+(?:\.\d+)?(?![A-Za-z0-9]|\.\d)", "NUM"),
)
#: A leading ISO-like timestamp, optionally in brackets: ``2022-08-22T05:18:42.908Z``,
#: ``[2022-08-22 05:18:42,908]``, ``2022-08-22 05:18:42+02:00``.
DEFAULT_TIME_PATTERN = (
    r"^\s*\[?(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
    r"(?:\s?Z|\s?[+-]\d{2}:?\d{2})?)\]?"
)
_TEXT_TIME_NAMES = ("ts_ns", "timestamp", "time", "ts", "datetime", "date")
_EMPTY_TEMPLATE = "<empty>"


# --------------------------------------------------------------------------- mining


def make_template_miner(
    *,
    sim_th: float = 0.4,
    depth: int = 4,
    max_children: int = 100,
    max_clusters: int | None = None,
    extra_delimiters: Sequence[str] = (),
    masks: Sequence[tuple[str, str]] = DEFAULT_MASKS,
):
    """A Drain3 ``TemplateMiner`` configured in code (no ``drain3.ini`` is read).

    Reuse one miner across files (``read_logs(..., miner=miner)``) so that training and
    test logs share their templates.

    Args:
        sim_th: Drain similarity threshold for joining a cluster.
        depth: Depth of Drain's parse tree.
        max_children: Most children per tree node.
        max_clusters: Most clusters kept (``None``: unbounded).
        extra_delimiters: Characters split on besides whitespace.
        masks: ``(regex, name)`` pairs; a match is replaced by ``<name>``.

    Returns:
        A ``drain3.TemplateMiner``.
    """
    drain3 = import_optional("drain3", "logs")
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.drain_sim_th = sim_th
    config.drain_depth = depth
    config.drain_max_children = max_children
    config.drain_max_clusters = max_clusters
    config.drain_extra_delimiters = list(extra_delimiters)
    config.masking_instructions = [MaskingInstruction(p, name) for p, name in masks]
    config.profiling_enabled = False
    return drain3.TemplateMiner(config=config)


def mine_templates(messages: Iterable[str], *, miner: Any = None, **options: Any) -> list[str]:
    """Mine one template per message with Drain3.

    Each distinct message is masked once and each distinct masked message is fed to
    Drain once, in order of first appearance; the template given back for a message is
    its cluster's template after all messages were seen (so that every message of one
    cluster gets the same, final template). Cluster sizes inside the miner therefore
    count distinct masked messages, not lines.

    Args:
        messages: The log messages (without timestamp and other header fields).
        miner: A ``drain3.TemplateMiner`` to use and update (e.g. from
            :func:`make_template_miner`); by default a new one with ``options``.
        **options: Passed to :func:`make_template_miner` when ``miner`` is ``None``.

    Returns:
        The templates, one per message, in order.

    Example:
        >>> mine_templates(["open file 12 ok", "open file 7 ok", "disk full"])
        ['open file <NUM> ok', 'open file <NUM> ok', 'disk full']
    """
    if miner is None:
        miner = make_template_miner(**options)
    elif options:
        raise GraphadInputError(
            "miner options given together with a miner",
            field=sorted(options)[0],
            expected="either miner= or options for a new miner",
            found=f"both (options {sorted(options)})",
        )
    series = pd.Series(list(messages), dtype=object)
    if series.empty:
        return []
    # Mask each distinct message once, then feed Drain each distinct *masked* message once:
    # 10^6 lines that differ only in ids and numbers cost a few thousand Drain steps.
    codes, uniques = pd.factorize(series)
    masked = pd.Series([miner.masker.mask(str(m)) for m in uniques], dtype=object)
    masked_codes, masked_uniques = pd.factorize(masked)
    clusters = []
    for text in masked_uniques:
        if miner.persistence_handler is None:
            cluster, _ = miner.drain.add_log_message(text)
        else:  # keep the miner's own bookkeeping (snapshots) when it persists its state
            cluster_id = miner.add_log_message(text)["cluster_id"]
            cluster = miner.drain.id_to_cluster[cluster_id]
        clusters.append(cluster)
    # The cluster objects themselves (not ids): with max_clusters an early cluster may
    # have left the miner's cache, and its final template is still the one to report.
    per_masked = np.array([cluster.get_template() for cluster in clusters], dtype=object)
    per_unique = per_masked[masked_codes]
    return per_unique[codes].tolist()


# --------------------------------------------------------------------------- messages


def _follow_json(text: str, path: Sequence[str]) -> tuple[str, bool]:
    """Follow a dotted JSON path through nested (string-encoded) JSON objects."""
    current: Any = text
    for key in path:
        if isinstance(current, str):
            stripped = current.strip()
            if not stripped.startswith("{"):
                return current, False
            try:
                current = json.loads(stripped)
            except json.JSONDecodeError:
                return current, False
        if not isinstance(current, dict) or key not in current:
            return (current if isinstance(current, str) else text), False
        current = current[key]
    if not isinstance(current, str):
        current = json.dumps(current) if isinstance(current, (dict, list)) else str(current)
    return current, True


def _extract_messages(
    messages: pd.Series,
    message: Callable[[str], str] | None,
    json_field: str | Sequence[str] | None,
    report: IngestReport,
) -> pd.Series:
    if json_field is not None:
        path = json_field.split(".") if isinstance(json_field, str) else list(json_field)
        out, missing, first = [], 0, None
        for i, text in enumerate(messages):
            value, ok = _follow_json(text, path)
            if not ok:
                missing += 1
                first = i if first is None else first
            out.append(value)
        report.add("json_field_missing", missing, None if first is None else f"event {first + 1}")
        messages = pd.Series(out, dtype=object, index=messages.index)
    if message is not None:
        messages = pd.Series([message(t) for t in messages], dtype=object, index=messages.index)
    text = messages.where(messages.notna(), "").astype(str).str.strip()
    return pd.Series(text.to_numpy(dtype=object), dtype=object, index=messages.index)


# --------------------------------------------------------------------------- times


def _coerce_times(
    values: pd.Series, unit: TimeUnit, time_format: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps -> (ns, readable mask); unreadable values do not raise."""
    n = len(values)
    ns = np.zeros(n, dtype=np.int64)
    if n == 0:
        return ns, np.zeros(0, dtype=bool)
    if time_format is None and (unit != "iso"):
        numeric = pd.to_numeric(values, errors="coerce")
        numeric_ok = numeric.notna().to_numpy() & np.isfinite(
            numeric.to_numpy(dtype=np.float64, na_value=np.nan)
        )
        if unit != "auto" or numeric_ok.all():
            if numeric_ok.any():
                floats = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
                unit = infer_unit(floats[numeric_ok]) if unit == "auto" else unit
                # A time outside int64 nanoseconds (after 2262) is unreadable too.
                with np.errstate(over="ignore", invalid="ignore"):
                    numeric_ok &= np.abs(floats * to_ns([1], unit)[0]) < 9.2e18
                chosen = numeric[numeric_ok]
                if chosen.dtype.kind not in "iu":
                    chosen = chosen.astype(np.float64)
                ns[numeric_ok] = to_ns(chosen, unit)
            return ns, numeric_ok
    if pd.api.types.is_datetime64_any_dtype(values):
        ok = values.notna().to_numpy()
        if ok.any():
            ns[ok] = to_ns(values[ok])
        return ns, ok
    text = values.astype(str).str.strip()
    if time_format is None:
        text = text.str.replace(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}),", r"\1.", regex=True)
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format=time_format or "ISO8601")
    # A time outside int64 nanoseconds (before 1677, after 2262) is unreadable too.
    inside = (parsed >= pd.Timestamp.min.tz_localize("UTC")) & (
        parsed <= pd.Timestamp.max.tz_localize("UTC")
    )
    ok = (parsed.notna() & values.notna() & inside).to_numpy()
    if ok.any():
        ns[ok] = parsed[ok].astype("datetime64[ns, UTC]").astype("int64").to_numpy()
    return ns, ok


# --------------------------------------------------------------------------- reader


def read_logs(
    source: PathLike | pd.DataFrame,
    format: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    time_unit: TimeUnit = "auto",
    time_format: str | None = None,
    time_pattern: str | None = None,
    node: str | None = None,
    message: Callable[[str], str] | None = None,
    json_field: str | Sequence[str] | None = None,
    bin_ns: int | None = None,
    miner: Any = None,
    **miner_options: Any,
) -> tuple[pd.DataFrame, IngestReport]:
    """Read log lines or rows, mine their templates, and return canonical log events.

    Args:
        source: A text file (plain or compressed), a CSV/TSV/Parquet table, or a frame.
        format: ``"text"`` (raw lines), ``"table"`` (rows), or ``"auto"`` (a frame or a
            ``.csv``/``.tsv``/``.parquet`` file is a table, anything else text).
        columns: Tables: canonical name -> the table's column, for ``ts_ns``, ``node`` and
            ``message`` (defaults: a time column named as usual, ``node``, ``message``).
        time_unit: Unit of numeric timestamps (``"auto"`` infers it from magnitude).
        time_format: ``strftime`` format of the timestamps (e.g. ``"%y%m%d %H%M%S"``)
            when they are not ISO 8601 or epoch numbers.
        time_pattern: Text: a regex matched at the start of each line with a group
            ``ts`` (the timestamp), optionally ``node`` and ``message`` groups; without a
            ``message`` group, the message is the rest of the line. Default:
            :data:`DEFAULT_TIME_PATTERN` (a leading ISO-like timestamp).
        node: The node of every event (text default: the file name without suffixes;
            overrides a ``node`` group or column when given).
        message: A callable applied to each message (after ``json_field``), e.g. to cut
            a prefix.
        json_field: A dotted path into a JSON message (``"log.message"``); every step may
            go through a string holding JSON (e.g. a docker JSON log line whose ``log``
            field is itself JSON).
        bin_ns: If given, events are counted per ``(bin, node, template)``, the time being
            the start of the bin (bins aligned on the epoch).
        miner: A ``drain3.TemplateMiner`` to reuse (see :func:`make_template_miner`).
        **miner_options: Options of :func:`make_template_miner` for a new miner.

    Returns:
        ``(log_events, report)``: columns ``ts_ns, node, template, count`` sorted by time,
        and the report (see the module documentation for what is counted).

    Raises:
        ParseError: The file cannot be read, or no line has a readable timestamp.
        SchemaError: A needed column is missing.
        GraphadInputError: A bad argument (e.g. a pattern without a ``ts`` group).

    Example:
        >>> rows = pd.DataFrame({"time": ["2022-08-22T05:18:42Z", "2022-08-22T05:18:43Z"],
        ...     "pod": ["web-1", "web-1"], "text": ["user 17 logged in", "user 4 logged in"]})
        >>> events, report = read_logs(rows, columns={"ts_ns": "time", "node": "pod",
        ...                                           "message": "text"})
        >>> events["template"].tolist(), events["count"].tolist()
        (['user <NUM> logged in', 'user <NUM> logged in'], [1, 1])
    """
    name = check_source(source, format, LOG_FORMATS, "logs")
    if format == "auto":
        table = isinstance(source, pd.DataFrame) or inner_suffix(source) in (
            ".csv",
            ".tsv",
            ".parquet",
            ".pq",
        )
        format = "table" if table else "text"
    if format == "table":
        frame = source if isinstance(source, pd.DataFrame) else read_table(source)
        events, report = _table_events(frame, columns, time_unit, time_format, node, name)
    else:
        if isinstance(source, pd.DataFrame):
            raise GraphadInputError(
                "a DataFrame is not raw text",
                source=name,
                field="format",
                expected="'table' or 'auto' for a DataFrame",
                found=repr(format),
            )
        default_node = node if node is not None else _file_stem(source)
        events, report = _text_events(
            source, time_pattern, time_unit, time_format, default_node, node is not None, name
        )
    events["message"] = _extract_messages(events["message"], message, json_field, report)
    empty = (events["message"] == "").to_numpy()
    if empty.any():
        report.add("empty_message", int(empty.sum()), f"event {np.flatnonzero(empty)[0] + 1}")
    templates = np.array(
        mine_templates(events["message"].tolist(), miner=miner, **miner_options), dtype=object
    )
    if empty.any():
        templates[empty] = _EMPTY_TEMPLATE
    frame = pd.DataFrame(
        {
            "ts_ns": events["ts_ns"].to_numpy(dtype=np.int64),
            "node": pd.Series(events["node"].to_numpy(dtype=object), dtype=object),
            "template": pd.Series(templates, dtype=object),
            "count": np.ones(len(events), dtype=np.int64),
        }
    )
    if bin_ns is not None:
        # Implausible events go before binning, so that they are counted as events.
        kept = drop_implausible({c: frame[c].to_numpy() for c in frame.columns}, "ts_ns", report)
        frame = _bin_events(pd.DataFrame(kept), bin_ns, name)
    out, checked = validate_logs(frame, name)
    report.n_kept = int(out["count"].sum()) if bin_ns is not None else checked.n_kept
    report.absorb(checked)
    return out, report


def _file_stem(path: PathLike) -> str:
    p = Path(path)
    while p.suffix.lower() in COMPRESSION_SUFFIXES or p.suffix.lower() in (".log", ".txt"):
        p = p.with_suffix("")
    return p.name or str(path)


def _bin_events(frame: pd.DataFrame, bin_ns: int, source: str) -> pd.DataFrame:
    if int(bin_ns) <= 0:
        raise GraphadInputError(
            "bin width must be positive",
            source=source,
            field="bin_ns",
            expected="an integer > 0 (nanoseconds)",
            found=bin_ns,
        )
    binned = frame.assign(ts_ns=(frame["ts_ns"] // int(bin_ns)) * int(bin_ns))
    grouped = binned.groupby(["ts_ns", "node", "template"], sort=True, as_index=False)["count"]
    out = grouped.sum()
    out["node"] = out["node"].astype(object)
    out["template"] = out["template"].astype(object)
    return out


def _compile_pattern(time_pattern: str | None, source: str) -> re.Pattern:
    pattern = time_pattern or DEFAULT_TIME_PATTERN
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise GraphadInputError(
            "invalid time pattern",
            source=source,
            field="time_pattern",
            expected="a regular expression",
            found=f"{pattern!r} ({error})",
        ) from None
    if "ts" not in compiled.groupindex:
        raise GraphadInputError(
            "time pattern has no 'ts' group",
            source=source,
            field="time_pattern",
            expected="a regex with a named group (?P<ts>...)",
            found=repr(pattern),
        )
    if "message" not in compiled.groupindex:
        compiled = re.compile(f"(?:{pattern})\\s*(?P<message>.*)$", compiled.flags | re.DOTALL)
    return compiled


def _text_events(
    path: PathLike,
    time_pattern: str | None,
    time_unit: TimeUnit,
    time_format: str | None,
    node: str,
    node_fixed: bool,
    source: str,
) -> tuple[pd.DataFrame, IngestReport]:
    compiled = _compile_pattern(time_pattern, source)
    lines = pd.Series(list(iter_lines(path)), dtype=object)
    report = IngestReport(source, n_records=len(lines))
    if lines.empty:
        return pd.DataFrame({"ts_ns": [], "node": [], "message": []}), report
    parts = lines.str.extract(compiled)
    blank = (lines.str.strip() == "").to_numpy()
    matched = parts["ts"].notna().to_numpy()
    ns, readable = _coerce_times(parts["ts"][matched], time_unit, time_format)
    ok = np.zeros(len(lines), dtype=bool)
    ok[np.flatnonzero(matched)[readable]] = True
    if not ok.any() and (~blank).any():
        first = int(np.flatnonzero(~blank)[0])
        raise ParseError(
            "no line has a readable timestamp",
            source=source,
            record=f"line {first + 1}",
            field="ts",
            expected=f"lines starting with a timestamp matching {compiled.pattern!r}"
            + (f" in the format {time_format!r}" if time_format else ""),
            found=repr(lines.iloc[first][:80]),
        )
    bad_time = matched & ~ok
    seen_event = np.cumsum(ok) > 0
    continuation = ~matched & ~blank & seen_event
    unparsed = (~matched & ~blank & ~seen_event) | bad_time
    report.add("blank_line", int(blank.sum()), _first_line(blank))
    report.add("continuation_line", int(continuation.sum()), _first_line(continuation))
    report.add("unparsed_log_line", int(unparsed.sum()), _first_line(unparsed))
    times = np.zeros(len(lines), dtype=np.int64)
    times[np.flatnonzero(matched)] = ns
    if not node_fixed and "node" in compiled.groupindex:
        nodes = parts["node"][ok].fillna(node).astype(str).to_numpy(dtype=object)
    else:
        nodes = np.full(int(ok.sum()), node, dtype=object)
    events = pd.DataFrame(
        {
            "ts_ns": times[ok],
            "node": pd.Series(nodes, dtype=object),
            "message": pd.Series(
                parts["message"][ok].fillna("").to_numpy(dtype=object), dtype=object
            ),
        }
    )
    return events, report


def _first_line(mask: np.ndarray) -> str | None:
    return f"line {int(np.flatnonzero(mask)[0]) + 1}" if mask.any() else None


def _find_column(frame: pd.DataFrame, canonical: str, candidates: Sequence[str], source: str):
    lowered = {str(c).lower(): c for c in frame.columns}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    raise SchemaError(
        "required field missing",
        source=source,
        field=canonical,
        expected=f"a column named one of {list(candidates)} or columns={{'{canonical}': ...}}",
        found=columns_text(frame),
    )


def _table_events(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    time_unit: TimeUnit,
    time_format: str | None,
    node: str | None,
    source: str,
) -> tuple[pd.DataFrame, IngestReport]:
    columns = dict(columns or {})
    check_mapped_columns(frame, columns, source)
    report = IngestReport(source, n_records=len(frame))
    time_col = columns.get("ts_ns") or _find_column(frame, "ts_ns", _TEXT_TIME_NAMES, source)
    message_col = columns.get("message") or _find_column(
        frame, "message", ("message", "msg", "log", "content", "text"), source
    )
    ns, ok = _coerce_times(frame[time_col].reset_index(drop=True), time_unit, time_format)
    if len(frame) and not ok.any():
        raise ParseError(
            "no row has a readable timestamp",
            source=source,
            record=1,
            field=time_col,
            expected="epoch numbers or ISO 8601 strings"
            + (f" in the format {time_format!r}" if time_format else ""),
            found=repr(frame[time_col].iloc[0]),
        )
    bad = ~ok
    if bad.any():
        report.add("unparsed_log_line", int(bad.sum()), f"record {int(np.flatnonzero(bad)[0]) + 1}")
    if node is not None:
        nodes = np.full(int(ok.sum()), node, dtype=object)
    else:
        node_col = columns.get("node") or _find_column(frame, "node", ("node",), source)
        nodes = frame[node_col].reset_index(drop=True)[ok].astype(str).to_numpy(dtype=object)
    texts = frame[message_col].reset_index(drop=True)[ok]
    events = pd.DataFrame(
        {
            "ts_ns": ns[ok],
            "node": pd.Series(nodes, dtype=object),
            "message": pd.Series(
                texts.where(texts.notna(), "").astype(str).to_numpy(dtype=object), dtype=object
            ),
        }
    )
    return events, report


# --------------------------------------------------------------------------- sequences


def read_event_sequences(path: PathLike) -> list[list[str]]:
    r"""Read pre-parsed event-id sequences: one session per line, ids separated by spaces.

    This is the layout of the HDFS session files (``hdfs_train``): ``"5 5 22 11 9"``. A
    blank line is an empty session.

    Args:
        path: A plain or compressed text file.

    Returns:
        One list of event ids (strings) per line.

    Raises:
        ParseError: The file does not exist.

    Example:
        >>> import tempfile, os
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = os.path.join(d, "sessions")
        ...     _ = open(p, "w").write("5 5 22\n11 9 \n")
        ...     read_event_sequences(p)
        [['5', '5', '22'], ['11', '9']]
    """
    return [line.split() for line in iter_lines(path)]
