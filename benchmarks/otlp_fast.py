"""OTLP reading throughput (spans/s on one core): JSON lines via Arrow, the reference
parser, and protobuf.

Generates ``--spans`` spans with the generator of ``benchmarks/ingest.py``, writes them as
OTLP JSON lines (``--per-request`` spans per ``ExportTraceServiceRequest``, as the
collector's file exporter does) and as length-prefixed protobuf, then times (best of
``--repeat``, Arrow on one thread):

* ``read_traces`` on the JSON lines (the Arrow fast path: ``graphad.ingest.otlp_fast``);
* the reference parser (``read_json_documents`` + ``parse_otlp``, a Python loop per span);
* ``read_traces`` on the protobuf file (``opentelemetry-proto``).

Each includes validation (``validate_spans``) and checks that all three give the same frame.

Run: ``python benchmarks/otlp_fast.py --spans 1000000``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from ingest import make_spans

from graphad.ingest import read_traces
from graphad.ingest.io import read_json_documents
from graphad.ingest.otlp_fast import read_otlp_json_arrow, to_otlp_proto, to_otlp_requests
from graphad.ingest.traces import parse_otlp


def _best(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--per-request", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    import orjson

    frame = make_spans(args.spans)
    for column, width in (("trace_id", 32), ("span_id", 16), ("parent_id", 16)):
        ids = frame[column].astype(str)  # OTLP ids are 16 / 8 bytes: full-width hex
        frame[column] = ids.where(ids == "", ids.str.zfill(width))
    folder = Path(tempfile.mkdtemp(prefix="graphad-otlp-"))
    requests = to_otlp_requests(frame, args.per_request)
    json_path = folder / "spans.jsonl"
    json_path.write_bytes(b"\n".join(orjson.dumps(r) for r in requests) + b"\n")
    proto_path = folder / "spans.binpb"
    proto_path.write_bytes(b"".join(len(p).to_bytes(4, "big") + p for p in to_otlp_proto(requests)))
    del requests
    n = len(frame)
    rows = []
    t, fast = _best(lambda: read_otlp_json_arrow(json_path, use_threads=False), args.repeat)
    rows.append(("OTLP JSON lines, Arrow (read_traces)", json_path, t))
    t, slow = _best(
        lambda: parse_otlp(read_json_documents(json_path), str(json_path)), max(1, args.repeat - 1)
    )
    rows.append(("OTLP JSON lines, reference parser", json_path, t))
    t, proto = _best(lambda: read_traces(proto_path), args.repeat)
    rows.append(("OTLP protobuf (read_traces)", proto_path, t))
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(proto[0], slow[0])
    assert fast[1].counts == slow[1].counts
    print(f"{n:,} spans, {args.per_request} per request; same frame and report from all three")
    print("| reader | file MB | seconds | spans/s |")
    print("|---|---|---|---|")
    for name, path, seconds in rows:
        size = path.stat().st_size / 1e6
        print(f"| {name} | {size:,.0f} | {seconds:.2f} | {n / seconds:,.0f} |")


if __name__ == "__main__":
    main()
