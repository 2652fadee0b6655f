"""Per-source evidence: span decomposition, gaps, structure, logs, fusion."""

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, SchemaError
from graphad.rca import fuse_scores, normalize_scores, sources
from graphad.rca.sources import (
    log_scores,
    metric_deviation_scores,
    span_error_scores,
    span_gap_scores,
    span_structure_scores,
    span_table,
    span_truncation_scores,
    with_reference,
)


def _spans():
    return pd.DataFrame(
        {
            "trace_id": ["t"] * 5,
            "span_id": ["1", "2", "3", "4", "5"],
            "parent_id": ["", "1", "2", "1", "4"],
            "service": ["web", "web", "api", "web", "db"],
            "operation": ["GET", "api.Get", "api.Get", "db.Q", "db.Q"],
            "start_ns": [0, 1, 2, 3, 4],
            "duration_ns": [100, 40, 30, 20, 15],
        }
    )


def test_span_table_exact():
    table = span_table(_spans(), node_rule=None)
    assert table["parent_node"].tolist() == ["", "web", "web", "web", "web"]
    assert table["self_ns"].tolist() == [40, 10, 30, 5, 15]
    assert table["n_children"].tolist() == [2, 1, 0, 1, 0]
    assert table["gap_ns"].tolist()[2] == 10 and table["gap_ns"].tolist()[4] == 5
    assert np.isnan(table["gap_ns"].tolist()[0])
    assert table["is_client"].tolist() == [False, True, False, True, False]


def test_gap_median_blames_the_common_end():
    rows = []
    for side, delay in ((0, 0), (1, 50)):
        for callee in ("a", "b", "c"):
            for _ in range(6):
                extra = delay if callee == "b" else 0
                rows.append((side, "x", callee, 10 + extra))
                rows.append((side, callee, "z", 10 + extra))
    frame = pd.DataFrame(rows, columns=["side", "parent_node", "node", "gap_ns"])
    before = (frame["side"] == 0).to_numpy()
    scores = span_gap_scores(frame, before, ~before, min_count=3)
    assert scores.idxmax() == "b"
    assert scores["x"] == 0.0


def _rpc_rows(slow: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Client -> server gaps of a small call graph, before (side 0) and after (side 1)."""
    rows = []
    edges = [("web", "ads"), ("web", "cart"), ("web", "shop"), ("shop", "cart"), ("shop", "pay")]
    for side in (0, 1):
        for src, dst in edges:
            for i in range(8):
                extra = slow.get((src, dst), 0.0) if side == 1 else 0.0
                rows.append((side, src, dst, 10.0 + i % 3 + extra))
    return pd.DataFrame(rows, columns=["side", "parent_node", "node", "gap_ns"])


def test_gap_attribution_blames_a_starved_caller_not_its_leaf():
    # the caller "web" is starved: all its outgoing gaps grow; "ads" has only that edge
    frame = _rpc_rows({("web", "ads"): 80, ("web", "cart"): 60, ("web", "shop"): 60})
    before = (frame["side"] == 0).to_numpy()
    explained = span_gap_scores(frame, before, ~before, min_count=3)
    assert explained.idxmax() == "web"
    median = span_gap_scores(frame, before, ~before, min_count=3, attribution="median")
    assert median.idxmax() == "ads"  # the leaf's one edge is its median
    with pytest.raises(GraphadInputError, match="attribution"):
        span_gap_scores(frame, before, ~before, attribution="mean")


def test_gap_attribution_keeps_a_slow_leaf():
    frame = _rpc_rows({("web", "ads"): 80})
    before = (frame["side"] == 0).to_numpy()
    assert span_gap_scores(frame, before, ~before, min_count=3).idxmax() == "ads"


def test_structure_fanout_change_blames_caller():
    rows = []
    for side in (0, 1):
        for _i in range(10):
            rows.append((side, "web", "GET", "", ""))
            if side == 0:
                rows.append((side, "api", "api.Get", "web", "GET"))
    frame = pd.DataFrame(
        rows, columns=["side", "node", "operation", "parent_node", "parent_operation"]
    )
    before = (frame["side"] == 0).to_numpy()
    relative = span_structure_scores(
        frame, before, ~before, min_count=3, top=1, statistic="relative"
    )
    assert relative["web"] == pytest.approx(1.0)
    top3 = span_structure_scores(frame, before, ~before, min_count=3, top=3, statistic="relative")
    assert top3["web"] == pytest.approx(1.0 / 3)
    # Poisson z: m0 = 1, m1 = 0 over 10 + 10 parent spans, pooled mean 0.5:
    # |0 - 1| / sqrt(0.5 * (1/10 + 1/10)) = sqrt(10)
    z = span_structure_scores(frame, before, ~before, min_count=3, top=1)
    assert z["web"] == pytest.approx(np.sqrt(10.0))
    with pytest.raises(GraphadInputError, match="statistic"):
        span_structure_scores(frame, before, ~before, statistic="ratio")


def test_structure_z_ignores_a_large_change_on_few_spans():
    rows = []
    for side, (n_parent, calls) in enumerate(((400, 2), (400, 2))):
        for i in range(n_parent):
            rows.append((side, "web", "GET", "", ""))
            for _ in range(calls):
                rows.append((side, "api", "api.Get", "web", "GET"))
            if side == 1 and i < 40:  # 10 % of requests stop calling the cache
                continue
            rows.append((side, "cache", "cache.Get", "web", "GET"))
    for side, calls in ((0, 1), (1, 2)):  # a rare operation doubles its calls, 6 spans
        for _ in range(6):
            rows.append((side, "batch", "Run", "", ""))
            for _ in range(calls):
                rows.append((side, "api", "api.Put", "batch", "Run"))
    frame = pd.DataFrame(
        rows, columns=["side", "node", "operation", "parent_node", "parent_operation"]
    )
    before = (frame["side"] == 0).to_numpy()
    relative = span_structure_scores(frame, before, ~before, top=1, statistic="relative")
    assert relative.idxmax() == "batch"  # 50 % change on six spans
    z = span_structure_scores(frame, before, ~before, top=1)
    assert z.idxmax() == "web"  # 10 % change on 400 spans


def _two_logs():
    return pd.DataFrame(
        {
            "ts_ns": [0, 10, 20, 100, 110, 0, 100],
            "node": ["a-7d9f8b6c5d-xxxxx"] * 5 + ["b-0", "b-0"],
            "template": ["ok", "ok", "ok", "ok", "boom", "ok", "ok"],
            "count": [2, 2, 2, 6, 6, 10, 10],
        }
    )


def test_log_changes_as_z():
    # a: 6 events before (all "ok"), 12 after (6 "ok", 6 "boom"); b: 10 "ok" each side.
    # "ok" share of a 1 -> 0.5, pooled 12/18: z = 0.5 / sqrt(2/9 * (1/6 + 1/12)) = 2.1213;
    # "boom" 0 -> 0.5, pooled 6/18: the same z. Volume = share of all events:
    # a 6/16 -> 12/22, b 10/16 -> 10/22, pooled 18/38 and 20/38 (the same variance):
    # z = (12/22 - 6/16) / sqrt(18/38 * 20/38 * (1/16 + 1/22)) = 1.0390 for both.
    scores = log_scores(_two_logs(), onset_ns=100, pre_ns=100, post_ns=100, top=1)
    assert scores["a"] == pytest.approx(0.5 / np.sqrt(2 / 9 * (1 / 6 + 1 / 12)))
    assert scores["b"] == pytest.approx(
        (12 / 22 - 6 / 16) / np.sqrt(18 / 38 * 20 / 38 * (1 / 16 + 1 / 22))
    )
    mean = log_scores(_two_logs(), onset_ns=100, pre_ns=100, post_ns=100, top=3)
    assert mean["a"] == pytest.approx((2 * scores["a"] + scores["b"]) / 3)


def test_log_changes_relative():
    scores = log_scores(
        _two_logs(), onset_ns=100, pre_ns=100, post_ns=100, top=1, statistic="relative"
    )
    # a: "ok" share 1 -> 0.5 (0.5), "boom" new (1.0); volume share 6/16 -> 12/22
    assert scores["a"] == 1.0
    assert scores["b"] == pytest.approx((10 / 16 - 10 / 22) / (10 / 16))
    with pytest.raises(GraphadInputError, match="statistic"):
        log_scores(_two_logs(), onset_ns=100, statistic="share")


def test_log_z_prefers_a_frequent_new_template():
    # The same relative change (a new template, half of the events after the onset) on
    # 4 events and on 400: only the z statistic tells them apart.
    rows = []
    for node, n in (("rare", 4), ("busy", 400)):
        rows += [(0, node, "ok", n), (100, node, "ok", n // 2), (100, node, "error <*>", n // 2)]
    logs = pd.DataFrame(rows, columns=["ts_ns", "node", "template", "count"])
    relative = log_scores(logs, 100, node_rule=None, top=1, statistic="relative", min_count=1)
    assert relative["rare"] == relative["busy"] == 1.0
    z = log_scores(logs, 100, node_rule=None, top=1, min_count=1)
    assert z["busy"] > 5 * z["rare"]


def test_missing_columns():
    with pytest.raises(SchemaError, match="metric"):
        metric_deviation_scores(pd.DataFrame({"ts_ns": [1]}), 0)
    with pytest.raises(SchemaError, match="parent_id"):
        span_table(pd.DataFrame({"trace_id": ["t"]}))
    with pytest.raises(GraphadInputError, match="scaler"):
        metric_deviation_scores(
            pd.DataFrame({"ts_ns": [0, 1], "node": "a", "metric": "m", "value": [1.0, 2.0]}),
            1,
            scaler="magic",
        )


def test_fusion_normalises_per_source():
    flat = pd.Series({"a": 5.0, "b": 5.0, "c": 5.0})
    peaked = pd.Series({"a": 0.1, "b": 0.1, "c": 0.9})
    fused, table = fuse_scores({"flat": flat, "peaked": peaked})
    assert fused.index[0] == "c"
    assert table["flat"].tolist() == [0.0, 0.0, 0.0]
    assert normalize_scores(pd.Series({"a": 2.0, "b": 1.0}), "max").tolist() == [1.0, 0.5]
    with pytest.raises(GraphadInputError, match="Could not resolve"):
        normalize_scores(flat, "magic")


def test_structure_z_uses_the_per_span_variance_of_calls():
    # before: 4 requests making 0, 2, 2, 4 calls (mean 2, variance 2);
    # after: 4 requests making 1 call each (variance 0, floored at 1 / (4 + 4))
    rows = []
    for side, counts in ((0, (0, 2, 2, 4)), (1, (1, 1, 1, 1))):
        for calls in counts:
            parent = len(rows)
            rows.append((side, "web", "GET", "", "", -1))
            rows.extend((side, "api", "api.Get", "web", "GET", parent) for _ in range(calls))
    frame = pd.DataFrame(
        rows,
        columns=["side", "node", "operation", "parent_node", "parent_operation", "parent_row"],
    )
    before = (frame["side"] == 0).to_numpy()
    welch = span_structure_scores(frame, before, ~before, min_count=3, top=1)
    assert welch["web"] == pytest.approx(1.0 / np.sqrt(2.0 / 4 + 0.125 / 4))
    poisson = span_structure_scores(
        frame.drop(columns="parent_row"), before, ~before, min_count=3, top=1
    )
    assert poisson["web"] == pytest.approx(1.0 / np.sqrt(1.5 * (1 / 4 + 1 / 4)))


def test_span_table_parent_row_and_reference_offset():
    spans = _spans()
    table = span_table(spans, node_rule=None)
    parent_ids = spans["parent_id"].tolist()
    span_ids = spans["span_id"].tolist()
    expected = [span_ids.index(p) if p in span_ids else -1 for p in parent_ids]
    assert table["parent_row"].tolist() == expected
    mask = np.zeros(len(table), dtype=bool)
    full, before, after = with_reference(table, mask, ~mask, table)
    assert full["parent_row"].tolist() == expected + [
        r + len(table) if r >= 0 else -1 for r in expected
    ]
    assert before.tolist() == [False] * len(table) + [True] * len(table)
    assert after.tolist() == [True] * len(table) + [False] * len(table)


def test_calibrated_fusion_uses_each_sources_chance_level():
    loud = pd.Series({"a": 30.0, "b": 20.0, "c": 1.0})  # large units, large chance level
    quiet = pd.Series({"a": 0.1, "b": 0.9, "c": 0.1})  # small units, small chance level
    null = {"loud": pd.Series({"a": 25.0, "b": 5.0}), "quiet": pd.Series({"a": 0.1})}
    fused, table = fuse_scores({"loud": loud, "quiet": quiet}, method="null", null=null)
    assert fused.index[0] == "b"  # 9x its chance level in "quiet" beats 1.2x in "loud"
    assert table.loc["a", "loud"] == pytest.approx(np.log1p(30.0 / 25.0))
    # no null for a source: robust normalisation across nodes, then log1p
    fused, table = fuse_scores({"loud": loud}, method="null", null={})
    assert table["loud"].tolist() == pytest.approx(
        np.log1p(normalize_scores(loud).to_numpy()).tolist()
    )
    with pytest.raises(GraphadInputError, match="method"):
        fuse_scores({"loud": loud}, method="zscore")


def test_error_source_charges_the_span_where_errors_start():
    # web -> api -> db; after the onset db fails and the failure travels up the chain
    rows = []
    for side in (0, 1):
        for _ in range(20):
            root = len(rows)
            failing = int(side == 1)
            rows.append((side, "web", "GET", "", "", -1, failing))
            rows.append((side, "api", "Get", "web", "GET", root, failing))
            rows.append((side, "db", "Query", "api", "Get", root + 1, failing))
    frame = pd.DataFrame(
        rows,
        columns=["side", "node", "operation", "parent_node", "parent_operation"]
        + ["parent_row", "status"],
    )
    before = (frame["side"] == 0).to_numpy()
    scores = span_error_scores(frame, before, ~before)
    # db: 0/20 -> 20/20, pooled .5: 1 / sqrt(.25 * (2 / 20)) = sqrt(40)
    assert scores["db"] == pytest.approx(np.sqrt(40.0))
    assert scores["web"] == 0.0 and scores["api"] == 0.0
    # without the parent rows every failing span counts as an origin
    flat = span_error_scores(frame.drop(columns="parent_row"), before, ~before)
    assert flat["web"] == pytest.approx(np.sqrt(40.0))
    assert span_error_scores(frame.assign(status=0), before, ~before).empty


def test_declared_client_spans_are_not_self_time():
    spans = _spans().assign(kind=["server", "client", "server", "", "server"])
    table = span_table(spans, node_rule=None)
    # span 2 is a client by kind; span 4 by structure (its only child runs on "db")
    assert table["is_client"].tolist() == [False, True, False, True, False]
    childless = spans.iloc[[0, 1]].assign(kind=["server", "client"])  # callee span missing
    assert span_table(childless, node_rule=None)["is_client"].tolist() == [False, True]
    assert span_table(childless.drop(columns="kind"), node_rule=None)["is_client"].tolist() == [
        False,
        False,
    ]


def test_span_table_names_are_categories_kept_through_the_reference():
    spans = _spans()
    spans.loc[4, "operation"] = ""  # an unnamed operation is a name like any other
    table = span_table(spans, node_rule=None)
    names = ["node", "operation", "parent_node", "parent_operation"]
    assert all(isinstance(table[c].dtype, pd.CategoricalDtype) for c in names)
    assert table["operation"].tolist() == ["GET", "api.Get", "api.Get", "db.Q", ""]
    assert table["parent_operation"].tolist() == ["", "GET", "api.Get", "GET", "db.Q"]
    other = _spans().assign(service=["web", "web", "cache", "web", "db"])
    reference = span_table(other, node_rule=None)
    mask = np.ones(len(table), dtype=bool)
    full, _, _ = with_reference(table, mask, ~mask, reference)
    assert all(isinstance(full[c].dtype, pd.CategoricalDtype) for c in names)
    assert full["node"].tolist() == table["node"].tolist() + reference["node"].tolist()
    assert set(full["node"].cat.categories) == {"web", "api", "db", "cache", ""}


def _requests(side: int, count: int, stop_after_api: int) -> list[tuple]:
    """``count`` web requests calling api then db; the first ``stop_after_api`` stop
    after the api call (the db call never happens)."""
    rows = []
    for i in range(count):
        t = f"{side}-{i}"
        start = side * 1_000 + i * 10
        rows += [
            (t, f"{t}r", "", "web", "GET", start, 9),
            (t, f"{t}a", f"{t}r", "web", "api.Get", start + 1, 3),
            (t, f"{t}as", f"{t}a", "api", "api.Get", start + 2, 1),
        ]
        if i >= stop_after_api:
            rows += [
                (t, f"{t}d", f"{t}r", "web", "db.Q", start + 5, 3),
                (t, f"{t}ds", f"{t}d", "db", "db.Q", start + 6, 1),
            ]
    return rows


def _request_table(stop_before: int, stop_after: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Span table of 10 requests before (side 0) and 10 after (side 1), and the
    before mask; ``stop_*`` requests of each side stop after the api call."""
    rows = _requests(0, 10, stop_before) + _requests(1, 10, stop_after)
    columns = ["trace_id", "span_id", "parent_id", "service", "operation"]
    spans = pd.DataFrame(rows, columns=[*columns, "start_ns", "duration_ns"])
    table = span_table(spans, node_rule=None)
    return table, table["start_ns"].to_numpy() < 1_000


def test_truncation_charges_the_callee_where_requests_stop():
    table, before = _request_table(0, 6)
    scores = span_truncation_scores(table, before, ~before)
    # (web, GET) stops after calling api in 0/10 requests before, 6/10 after; pooled .3:
    # .6 / sqrt(.3 * .7 * (1/10 + 1/10))
    assert scores["api"] == pytest.approx(0.6 / np.sqrt(0.21 * 0.2))
    assert set(scores.index) == {"api"}
    # the structure source charges the caller for the vanished db calls
    assert span_structure_scores(table, before, ~before).idxmax() == "web"
    assert span_truncation_scores(table.drop(columns="parent_row"), before, ~before).empty


def test_truncation_needs_fewer_calls_than_usual():
    # every request calls api only, before and after: a complete request, not a truncated one
    table, before = _request_table(10, 10)
    assert span_truncation_scores(table, before, ~before).empty


def test_chance_level_floor_of_z_sources():
    # a one-sided z source whose null is 0: without a floor a blip of .1 would take the
    # robust fallback's cap; with the floor of one standard error it stays small
    blip = pd.Series({"a": 0.1, "b": 0.0, "c": 0.0})
    _, table = fuse_scores({"z": blip}, method="null", null={"z": pd.Series({"a": 0.0})})
    assert table.loc["a", "z"] == pytest.approx(np.log1p(10.0))
    _, table = fuse_scores(
        {"z": blip}, method="null", null={"z": pd.Series({"a": 0.0})}, min_levels={"z": 1.0}
    )
    assert table.loc["a", "z"] == pytest.approx(np.log1p(0.1))
    # a null above the floor is the chance level as before
    _, table = fuse_scores(
        {"z": blip}, method="null", null={"z": pd.Series({"a": 4.0})}, min_levels={"z": 1.0}
    )
    assert table.loc["a", "z"] == pytest.approx(np.log1p(0.1 / 4.0))


def test_shift_less_its_standard_error():
    # log1p(values) = x exactly: before 0..4, after 2..6 (median shift 2, IQR 2 each side)
    x = np.array([0, 1, 2, 3, 4, 2, 3, 4, 5, 6], dtype=float)
    keys = pd.DataFrame({"node": ["a"] * 10})
    before = np.arange(10) < 5
    spread = 2 / 1.349
    se = np.sqrt(np.pi / 2) * np.sqrt(2 * spread**2 / 5)  # SE of a median difference
    plain = sources._shift_scores(pd.Series(np.expm1(x)), keys, before, ~before, 5, 0.1, 0.0)
    sure = sources._shift_scores(pd.Series(np.expm1(x)), keys, before, ~before, 5, 0.1, 1.0)
    assert plain["score"].iloc[0] == pytest.approx(2 / spread)  # 1.349
    assert sure["score"].iloc[0] == pytest.approx((2 - se) / spread)  # 0.556
    # 100 times the spans: the same shift, known 10x better, keeps most of its score
    many = np.repeat(x, 100)
    keys = pd.DataFrame({"node": ["a"] * 1000})
    before = np.repeat(np.arange(10) < 5, 100)
    lots = sources._shift_scores(pd.Series(np.expm1(many)), keys, before, ~before, 5, 0.1, 1.0)
    assert lots["score"].iloc[0] == pytest.approx((2 - se / 10) / spread)  # 1.270
    # a shift smaller than its standard error counts 0, never negative
    small = np.array([0, 1, 2, 3, 4, 0.5, 1.5, 2.5, 3.5, 4.5])
    keys = pd.DataFrame({"node": ["a"] * 10})
    tiny = sources._shift_scores(
        pd.Series(np.expm1(small)), keys, np.arange(10) < 5, np.arange(10) >= 5, 5, 0.1, 1.0
    )
    assert tiny["score"].iloc[0] == 0.0


def _edge_samples(slow: dict[tuple[str, str], float], unit: float = 1.0) -> pd.DataFrame:
    """Per-minute latency samples (seconds * ``unit``) of a small call graph; minutes
    0-9 before the onset at minute 10, 10-14 after; ``slow`` multiplies an edge after."""
    rows = []
    edges = [("web", "ads"), ("web", "cart"), ("web", "shop"), ("shop", "cart"), ("shop", "pay")]
    for minute in range(15):
        for src, dst in edges:
            factor = slow.get((src, dst), 1.0) if minute >= 10 else 1.0
            value = (0.010 + 0.001 * (minute % 3)) * factor * unit
            rows.append((minute * 60 * 10**9, src, dst, "p50_s", value))
    return pd.DataFrame(rows, columns=["ts_ns", "src", "dst", "metric", "value"])


def test_edge_metrics_blame_the_end_every_slow_edge_touches():
    onset = 10 * 60 * 10**9
    # a network delay at "cart": both of its callers see it, their other edges do not
    frame = _edge_samples({("web", "cart"): 5.0, ("shop", "cart"): 5.0})
    scores = sources.edge_metric_scores(frame, onset, node_rule=None)
    assert scores.idxmax() == "cart"
    assert scores[["web", "shop", "ads", "pay"]].max() < 0.25 * scores["cart"]
    # a starved caller: every edge out of "web" slows, "ads" has only that one edge
    starved = _edge_samples({("web", "ads"): 5.0, ("web", "cart"): 5.0, ("web", "shop"): 5.0})
    assert sources.edge_metric_scores(starved, onset, node_rule=None).idxmax() == "web"
    median = sources.edge_metric_scores(starved, onset, node_rule=None, attribution="median")
    assert median.idxmax() == "ads"  # its one edge is its median
    with pytest.raises(GraphadInputError, match="attribution"):
        sources.edge_metric_scores(frame, onset, attribution="mean")


def test_edge_metrics_are_scale_free_and_skip_unusable_samples():
    onset = 10 * 60 * 10**9
    slow = {("web", "cart"): 5.0, ("shop", "cart"): 5.0}
    seconds = sources.edge_metric_scores(_edge_samples(slow), onset, node_rule=None)
    millis = sources.edge_metric_scores(_edge_samples(slow, 1000.0), onset, node_rule=None)
    pd.testing.assert_series_equal(seconds, millis)  # log shifts: the unit cancels
    # zero latencies (no log) and edges with one sample after the onset are left out
    frame = _edge_samples(slow)
    late = frame["ts_ns"] >= onset
    frame.loc[late & (frame["dst"] == "cart") & (frame["src"] == "web"), "value"] = 0.0
    frame = frame[~(late & (frame["src"] == "shop") & (frame["ts_ns"] > onset))]
    assert sources.edge_metric_scores(frame, onset, node_rule=None).max() == 0.0
    assert sources.edge_metric_scores(frame.iloc[:0], onset).empty
    with pytest.raises(SchemaError):
        sources.edge_metric_scores(frame.drop(columns="dst"), onset)
