"""Seeded mutations of small valid telemetry files, and the outcome of reading each.

Used by ``tests/ingest/test_fuzz.py``: every reader must end in one of three ways — a
frame whose report accounts for every record (``n_records == n_kept + n_dropped``), a
:class:`~graphad.exceptions.GraphadError`, or a
:class:`~graphad.exceptions.ResourceLimitError` — within a time limit, for every
mutation. Run ``PYTHONPATH=. python tests/ingest/fuzzing.py 2000`` for the outcome table.
"""

from __future__ import annotations

import gzip
import json
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadError, ResourceLimitError
from graphad.ingest import read_edge_metrics, read_logs, read_metrics, read_traces
from graphad.ingest.schema import implausible_times

DATA = Path(__file__).parent / "data"

EDGES_LONG = (
    "timestamp,src,dst,metric,value\n"
    "1661144400,web,db,p50,0.004\n"
    "1661144400,web,cache,p50,0.001\n"
    "1661144460,web,db,p50,0.005\n"
    "1661144460,web,cache,p50,\n"
)
EDGES_WIDE = "timestamp,web_db,web_cache\n1661144400,0.004,0.001\n1661144460,0.005,\n"

#: reader name -> (file name, content, read(path) -> (frame, report)).
READERS: dict[str, tuple[str, bytes, Callable]] = {
    "otlp_json": ("t.json", (DATA / "otlp.json").read_bytes(), read_traces),
    "otlp_jsonl": ("t.jsonl", (DATA / "otlp_lines.jsonl").read_bytes(), read_traces),
    "jaeger": ("t.json", (DATA / "jaeger.json").read_bytes(), read_traces),
    "zipkin": ("t.json", (DATA / "zipkin.json").read_bytes(), read_traces),
    "span_csv": ("t.csv", (DATA / "spans.csv").read_bytes(), read_traces),
    "metrics_long": ("m.csv", (DATA / "metrics_long.csv").read_bytes(), read_metrics),
    "metrics_wide": (
        "m.csv",
        (DATA / "metrics_wide.csv").read_bytes(),
        lambda p: read_metrics(p, separator="/"),
    ),
    "prometheus": (
        "m.json",
        (DATA / "prometheus.json").read_bytes(),
        lambda p: read_metrics(p, node_label=["pod", "instance"]),
    ),
    "edges_long": ("e.csv", EDGES_LONG.encode(), read_edge_metrics),
    "edges_wide": (
        "e.csv",
        EDGES_WIDE.encode(),
        lambda p: read_edge_metrics(p, separator="_", metric="p50"),
    ),
    "log_text": ("app.log", (DATA / "app.log").read_bytes(), read_logs),
    "log_table": (
        "l.csv",
        (DATA / "docker_logs.csv").read_bytes(),
        lambda p: read_logs(
            p,
            columns={"ts_ns": "Timestamp", "node": "Pod", "message": "Log"},
            json_field="log.message",
        ),
    ),
}

_ODD_VALUES = [
    "",
    "0",
    "-0",
    "-1",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e30",
    "1e308",
    "9" * 25,
    "1" * 5000,
    "2999-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "0001-01-01",
    "null",
    "root",
    "true",
    "\u00e9\u4e2d",
    "a" * 100_000,
]
_ODD_JSON = [
    None,
    True,
    0,
    -1,
    2.7,
    10**30,
    -(10**30),
    1e300,
    "",
    "NaN",
    "soon",
    "2999-01-01T00:00:00Z",
    [],
    {},
    [1, 2],
    {"a": 1},
    "99999999999999999999",
]


# ----------------------------------------------------------------------- mutations


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _bad_utf8(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]) + data[at:]


def _bom(data: bytes, rng: random.Random) -> bytes:
    return b"\xef\xbb\xbf" + data


def _delete_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def _duplicate_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def _long_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    size = rng.choice([10_000, 200_000, 1_000_000])
    filler = rng.choice([b",", b"a", b"1,", b"[", b'{"a":', b" ", b"\t"]) * (size // 2)
    lines.insert(rng.randrange(len(lines) + 1), filler)
    return b"\n".join(lines)


def _glue_lines(data: bytes, rng: random.Random) -> bytes:
    """A record cut short with the next one on the same line (the Nezha log case)."""
    lines = _lines(data)
    if len(lines) < 3:
        return data
    i = rng.randrange(1, len(lines) - 1)
    cut = lines[i][: rng.randrange(len(lines[i]) + 1)]
    lines[i : i + 2] = [cut + lines[i + 1]]
    return b"\n".join(lines)


def _csv_field(data: bytes, rng: random.Random) -> bytes:
    """Replace, add or remove one field of one CSV row (ids, times, values)."""
    lines = _lines(data)
    i = rng.randrange(len(lines))
    fields = lines[i].split(b",")
    j = rng.randrange(len(fields))
    action = rng.random()
    if action < 0.6:
        fields[j] = rng.choice(_ODD_VALUES).encode()
    elif action < 0.75:
        fields.insert(j, b"extra")
    elif action < 0.85 and len(fields) > 1:
        del fields[j]
    else:  # copy a field from another row: duplicate ids, self/cyclic parents
        other = lines[rng.randrange(len(lines))].split(b",")
        fields[j] = other[rng.randrange(len(other))]
    lines[i] = b",".join(fields)
    return b"\n".join(lines)


def _json_paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _json_paths(value, (*path, key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _json_paths(value, (*path, k))


def _json_documents(data: bytes) -> tuple[list, bool] | None:
    text = data.decode("utf-8", errors="strict")
    try:
        return [json.loads(text)], False
    except (json.JSONDecodeError, RecursionError, ValueError):
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()], True
        except (json.JSONDecodeError, RecursionError, ValueError):
            return None


def _json_node(data: bytes, rng: random.Random) -> bytes:
    """Delete, duplicate or retype one node of the JSON tree; huge numbers, deep nesting."""
    try:
        parsed = _json_documents(data)
    except UnicodeDecodeError:
        return data
    if parsed is None or not parsed[0]:
        return data
    documents, lines = parsed
    d = rng.randrange(len(documents))
    paths = list(_json_paths(documents[d]))[1:]
    if not paths:
        return data
    path = rng.choice(paths)
    parent = documents[d]
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = rng.random()
    marker = None
    if action < 0.2:
        del parent[key]
    elif action < 0.3 and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
    elif action < 0.4 and isinstance(parent, dict):  # copy a sibling's value: ids, parents
        parent[key] = parent[rng.choice(list(parent))]
    elif action < 0.9:
        parent[key] = rng.choice(_ODD_JSON)
    else:
        marker = "__MARKER__"
        parent[key] = marker
    texts = [json.dumps(doc) for doc in documents]
    if marker is not None:
        raw = rng.choice(
            ["[" * 50_000 + "]" * 50_000, "1" * 5000, "NaN", "Infinity", "-1e999", "1e400"]
        )
        texts[d] = texts[d].replace(json.dumps(marker), raw, 1)
    return ("\n" if lines else "").join(texts).encode()


def _time_shift(data: bytes, rng: random.Random) -> bytes:
    """Replace one digit run of 10+ digits (a timestamp) by a far or negative time."""
    text = data.decode("utf-8", errors="surrogateescape")
    import re

    runs = [m.span() for m in re.finditer(r"\d{10,}", text)]
    if not runs:
        return data
    a, b = rng.choice(runs)
    value = rng.choice(["-" + text[a:b], "9" * (b - a + 3), "0", "1" * (b - a - 3), "-0"])
    return (text[:a] + value + text[b:]).encode("utf-8", errors="surrogateescape")


MUTATIONS = [
    _truncate,
    _flip,
    _bad_utf8,
    _bom,
    _delete_line,
    _duplicate_line,
    _long_line,
    _glue_lines,
    _csv_field,
    _csv_field,
    _json_node,
    _json_node,
    _json_node,
    _time_shift,
]


def mutate(name: str, data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One seeded mutation of ``data`` (1-3 edits, then maybe gzip, maybe cut short)."""
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATIONS)(data, rng)
    roll = rng.random()
    if roll < 0.08:
        packed = gzip.compress(data)
        return name + ".gz", packed[: rng.randrange(len(packed))]
    if roll < 0.12:
        return name + ".gz", data  # named .gz, not compressed
    if roll < 0.16:
        return name + ".gz", gzip.compress(data)
    return name, data


# ----------------------------------------------------------------------- outcomes


class Hang(BaseException):
    """Raised by the alarm when one read takes longer than the time limit."""


def _alarm(signum, frame):
    raise Hang


@dataclass
class Outcome:
    kind: str  # "clean", "repaired", "error", "limit", "uncaught", "hang", "bad_frame"
    detail: str = ""


def check_frame(frame: pd.DataFrame, report) -> str:
    """Why a returned frame breaks the contract ("" when it keeps it)."""
    if report.n_records != report.n_kept + report.n_dropped:
        return (
            f"accounting: n_records {report.n_records} != n_kept {report.n_kept} "
            f"+ n_dropped {report.n_dropped} ({dict(report.counts)})"
        )
    if len(frame) != report.n_kept:
        return f"n_kept {report.n_kept} != len(frame) {len(frame)}"
    time_column = "start_ns" if "start_ns" in frame.columns else "ts_ns"
    ts = frame[time_column].to_numpy()
    if ts.dtype != np.int64:
        return f"{time_column} has dtype {ts.dtype}"
    if implausible_times(ts).any():
        return f"implausible time kept silently: {ts[implausible_times(ts)][:3].tolist()}"
    if "duration_ns" in frame.columns and (frame["duration_ns"].to_numpy() < 0).any():
        return "negative duration kept"
    return ""


def run_one(read: Callable, path: Path, limit_s: float) -> Outcome:
    """Read ``path`` under a time limit and classify the outcome."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        frame, report = read(path)
    except Hang:
        return Outcome("hang", path.name)
    except ResourceLimitError as error:
        return Outcome("limit", str(error)[:200])
    except GraphadError as error:
        return Outcome("error", str(error)[:200])
    except Exception as error:  # noqa: BLE001 - what the fuzzer is looking for
        return Outcome("uncaught", f"{type(error).__name__}: {str(error)[:200]}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    problem = check_frame(frame, report)
    if problem:
        return Outcome("bad_frame", problem)
    return Outcome("repaired" if report.n_problems else "clean")


def fuzz(
    reader: str, n: int, folder: Path, seed: int = 0, limit_s: float = 10.0
) -> tuple[Counter, list[tuple[int, Outcome, bytes]]]:
    """Run ``n`` seeded mutations of ``reader``'s fixture.

    Returns:
        ``(counts by outcome, [(example number, outcome, input)] of the failures)``; the
        counts also hold ``"slowest_ms"``, the longest read in milliseconds.
    """
    name, data, read = READERS[reader]
    counts: Counter = Counter()
    failures = []
    for i in range(n):
        rng = random.Random(f"{reader}:{seed}:{i}")
        file_name, content = mutate(name, data, rng)
        path = folder / f"{i}_{file_name}"
        path.write_bytes(content)
        start = time.perf_counter()
        outcome = run_one(read, path, limit_s)
        counts["slowest_ms"] = max(counts["slowest_ms"], int(1000 * (time.perf_counter() - start)))
        counts[outcome.kind] += 1
        if outcome.kind in ("uncaught", "hang", "bad_frame"):
            failures.append((i, outcome, content))
        path.unlink()
    return counts, failures


def main(n: int) -> None:  # pragma: no cover - the slow run's table
    import tempfile

    columns = ["clean", "repaired", "error", "limit", "uncaught", "hang", "bad_frame"]
    print(f"| reader | {' | '.join(columns)} | seconds | slowest example (s) |")
    print("|---" * (len(columns) + 3) + "|")
    total: Counter = Counter()
    with tempfile.TemporaryDirectory() as folder:
        for reader in READERS:
            start = time.perf_counter()
            counts, failures = fuzz(reader, n, Path(folder))
            slowest = counts.pop("slowest_ms") / 1000
            total.update(counts)
            cells = " | ".join(str(counts[c]) for c in columns)
            print(f"| {reader} | {cells} | {time.perf_counter() - start:.1f} | {slowest:.2f} |")
            for i, outcome, _ in failures[:5]:
                print(f"    #{i} {outcome.kind}: {outcome.detail}", file=sys.stderr)
    print(f"| **all** | {' | '.join(str(total[c]) for c in columns)} | | |")


if __name__ == "__main__":  # pragma: no cover
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
