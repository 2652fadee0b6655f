"""The parent join (graphad.ingest.parents) on validated frames; nothing is remembered."""

import numpy as np
import pandas as pd
import pytest

from graphad.ingest import parents, validate_spans
from graphad.ingest._arrow import may_need_strip

pytest.importorskip("pyarrow")
ARROW = pd.StringDtype("pyarrow", na_value=np.nan)


def _text(values):
    return pd.Series(values, dtype=ARROW)


def _codes_equal(span, parent):
    """For each parent, the rows whose span id equals it, through id_codes."""
    s, p, _ = parents.id_codes(span, parent)
    return [sorted(np.flatnonzero((s == c) & (c >= 0)).tolist()) for c in p]


# Ids that a 16-byte packing could confuse: leading zeros, padding-like spaces, exactly
# 16 bytes, longer than 16 bytes, a multi-byte character.
SPANS = ["a", "0a", "00a", " a", "0123456789abcdef", "x" * 17, "é"]
PARENTS = ["", "a", "0a", "000a", "0123456789abcdef", "x" * 17, "é", "zz"]
EXPECTED = [[], [0], [1], [], [4], [5], [6], []]


@pytest.mark.parametrize("dtype", [ARROW, object])
def test_id_codes_exact_on_tricky_ids(dtype):
    span = pd.Series(SPANS + ["b"], dtype=dtype)
    parent = pd.Series(PARENTS, dtype=dtype)
    assert _codes_equal(span, parent) == EXPECTED
    # short arrow ids take the packed path; the long / multi-byte ones fall back, and
    # both answer the same
    short = pd.Series(["a", "0a", "00a", "b"], dtype=dtype)
    assert _codes_equal(short, pd.Series(["", "0a", "a", "0b"], dtype=dtype)) == [
        [],
        [1],
        [0],
        [],
    ]


def test_packed_path_is_taken_and_agrees_with_factorize():
    rng = np.random.default_rng(0)
    ids = [f"{v:x}" for v in rng.integers(0, 2**40, size=500)]  # 1-10 hex chars
    span = _text(ids)
    parent = _text([ids[i] if i % 7 else f"0{ids[i]}" for i in rng.integers(0, 500, 500)])
    assert parents._packed_codes(span, parent) is not None
    assert _codes_equal(span, parent) == _codes_equal(span.astype(object), parent.astype(object))


def test_hash_collisions_are_checked(monkeypatch):
    span = _text(["0000000011111111", "0000000022222222"])
    parent = _text(["2222222211111111", "0000000022222222", ""])
    # a hash of the second word only: the first parent collides with the first span
    monkeypatch.setattr(parents, "_hash", lambda words: words[:, 1].copy())
    assert _codes_equal(span, parent) == [[], [1], []]
    # a constant hash: span ids look repeated, the general path answers
    monkeypatch.setattr(parents, "_hash", lambda words: np.zeros(len(words), np.uint64))
    assert parents._packed_codes(span, parent) is None
    assert _codes_equal(span, parent) == [[], [1], []]


def test_parent_rows_series_and_arrays_agree():
    trace = ["t", "t", "t", "u", "u", "v"]
    span = ["a", "b", "c", "a", "d", "e"]
    parent = ["", "a", "b", "", "a", "a"]  # v's parent 'a' exists only in t and u
    expected = [-1, 0, 1, -1, 3, -1]
    arrays = [np.array(x, dtype=object) for x in (trace, span, parent)]
    assert parents.parent_rows(*arrays).tolist() == expected
    assert parents.parent_rows(*map(_text, (trace, span, parent))).tolist() == expected


def _raw(**overrides):
    base = {
        "trace_id": ["t1", "t1", "t1", "t2", "t2", "t2"],
        "span_id": ["a1", "b2", "c3", "d4", "e5", "f6"],
        "parent_id": ["root", "a1", "b2", "", "d4", "zz"],
        "service": ["web", "api", "db", "web", "api", "db"],
        "start_ns": [0, 1, 2, 5, 3, 4],
        "duration_ns": [10, 5, 2, 8, 3, 1],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def _rows(spans):
    return parents.parent_rows(spans["trace_id"], spans["span_id"], spans["parent_id"])


@pytest.mark.parametrize("dtype", [ARROW, object])
def test_validated_frame_parent_rows(dtype):
    raw = _raw()
    raw = raw.astype({c: dtype for c in ("trace_id", "span_id", "parent_id", "service")})
    spans, report = validate_spans(raw)
    # sorted by start: a1 b2 c3 e5 f6 d4; e5's parent d4 is now the last row
    assert spans["span_id"].tolist() == ["a1", "b2", "c3", "e5", "f6", "d4"]
    assert dict(report.counts) == {"status_unknown": 6, "orphan_span": 1, "out_of_order": 1}
    expected = [-1, 0, 1, 5, -1, -1]
    assert _rows(spans).tolist() == expected
    fresh = parents.parent_rows(*(spans[c].to_numpy(dtype=object) for c in spans.columns[:3]))
    assert fresh.tolist() == expected


def test_parent_rows_follow_changes_of_the_id_columns():
    spans, _ = validate_spans(_raw())
    assert _rows(spans).tolist() == [-1, 0, 1, 5, -1, -1]
    changed = spans.copy()
    changed.loc[4, "parent_id"] = "a1"  # f6 now claims a1, which is in another trace
    changed.loc[1, "trace_id"] = "t2"  # b2 moves to t2: c3 loses its parent
    assert _rows(changed).tolist() == [-1, -1, -1, 5, -1, -1]
    assert _rows(spans).tolist() == [-1, 0, 1, 5, -1, -1]
    assert _rows(spans.iloc[::-1]).tolist() == [-1, -1, 0, 4, 5, -1]
    assert _rows(spans.iloc[3:]).tolist() == [2, -1, -1]
    swapped = spans.assign(span_id=spans["parent_id"], parent_id=spans["span_id"])
    assert _rows(swapped).tolist() == [1, 2, -1, -1, -1, 3]


def test_nothing_is_remembered_at_module_level():
    assert not [
        name
        for name, value in vars(parents).items()
        if isinstance(value, (dict, list, set)) and name != "__all__" and not name.startswith("__")
    ]


def test_validated_ids_are_stripped_and_roots_respelled():
    raw = _raw(
        span_id=[" a1", "b2 ", "c3", "d4", "e5", "f6"],
        parent_id=["ROOT", " a1", "b2", "Null", "d4\t", "0000000000000000"],
    ).astype({"span_id": ARROW, "parent_id": ARROW})
    spans, report = validate_spans(raw)
    assert spans["span_id"].tolist() == ["a1", "b2", "c3", "e5", "f6", "d4"]
    assert spans["parent_id"].tolist() == ["", "a1", "b2", "d4", "", ""]
    assert "orphan_span" not in report.counts
    assert _rows(spans).tolist() == [-1, 0, 1, 5, -1, -1]


def test_may_need_strip():
    assert may_need_strip(_text(["ab", "c-d", ""])) is False
    assert may_need_strip(_text(["ab", "c d"])) is True  # conservative: an inner space
    assert may_need_strip(_text(["ab", " c"])) is True
    assert may_need_strip(_text(["ab", "é"])) is True
    assert may_need_strip(_text([])) is False
    assert may_need_strip(pd.Series(["ab"], dtype=object)) is True


def _coded(spans):
    return parents.frame_parent_rows(spans)


def test_code_columns_hold_the_join_through_filters_and_reorders():
    spans, _ = validate_spans(_raw())
    assert list(spans.columns[-2:]) == list(parents.SPAN_CODE_COLUMNS)
    assert spans["span_code"].dtype == np.int64 and spans["parent_code"].dtype == np.int64
    coded = parents.coded_parent_rows(spans["span_code"], spans["parent_code"])
    assert coded.tolist() == _rows(spans).tolist() == [-1, 0, 1, 5, -1, -1]
    views = (spans.iloc[::-1], spans.iloc[3:], spans.iloc[:4], spans.iloc[[5, 0, 3, 1]], spans[:0])
    for view in views:
        view = view.reset_index(drop=True)
        assert parents.coded_parent_rows(view["span_code"], view["parent_code"]) is not None
        assert _coded(view).tolist() == _rows(view).tolist()


def test_code_columns_that_no_longer_hold_fall_back_to_the_ids():
    spans, _ = validate_spans(_raw())
    # Stacked on itself: every code repeats; the first of a repeated pair is the parent.
    twice = pd.concat([spans, spans], ignore_index=True)
    assert parents.coded_parent_rows(twice["span_code"], twice["parent_code"]) is None
    assert _coded(twice).tolist() == _rows(twice).tolist()
    # Two files validated apart, one trace split across them: the parent is in the other.
    first, _ = validate_spans(_raw().iloc[:2])
    second, _ = validate_spans(_raw().iloc[2:])
    both = pd.concat([first, second], ignore_index=True)
    assert parents.coded_parent_rows(both["span_code"], both["parent_code"]) is None
    assert _coded(both).tolist() == _rows(both).tolist()
    assert _coded(both)[2] == 1  # c3's parent b2 came from the first file
    # Id columns replaced after validation: the spot check sees it.
    swapped = spans.assign(span_id=spans["parent_id"], parent_id=spans["span_id"])
    assert _coded(swapped).tolist() == _rows(swapped).tolist() == [1, 2, -1, -1, -1, 3]
    # Codes lost to a concat with a frame that has none (floats with NaN): the ids.
    bare = pd.concat([spans, spans.drop(columns=list(parents.SPAN_CODE_COLUMNS))])
    assert _coded(bare.reset_index(drop=True)).tolist() == _rows(bare).tolist()


def test_code_columns_after_validation_repairs():
    # self parent, a cycle b <-> c, a duplicate pair, a span id shared by two traces
    raw = pd.DataFrame(
        {
            "trace_id": ["t", "t", "t", "t", "u", "u"],
            "span_id": ["a", "b", "c", "a", "a", "d"],
            "parent_id": ["a", "c", "b", "", "", "a"],
            "service": "s",
            "start_ns": [5, 1, 2, 6, 3, 4],
            "duration_ns": 1,
        }
    )
    spans, report = validate_spans(raw)
    assert set(report.counts) >= {"self_parent", "parent_cycle", "duplicate_span_id"}
    assert _coded(spans).tolist() == _rows(spans).tolist()
    assert parents.coded_parent_rows(spans["span_code"], spans["parent_code"]) is not None
