"""Log evidence."""

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError
from graphad.rca.evidence import (
    log_scores,
)


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
    scores = log_scores(
        _two_logs(), onset_ns=100, node_rule="service", pre_ns=100, post_ns=100, top=1
    )
    assert scores["a"] == pytest.approx(0.5 / np.sqrt(2 / 9 * (1 / 6 + 1 / 12)))
    assert scores["b"] == pytest.approx(
        (12 / 22 - 6 / 16) / np.sqrt(18 / 38 * 20 / 38 * (1 / 16 + 1 / 22))
    )
    mean = log_scores(
        _two_logs(), onset_ns=100, node_rule="service", pre_ns=100, post_ns=100, top=3
    )
    assert mean["a"] == pytest.approx((2 * scores["a"] + scores["b"]) / 3)


def test_log_changes_relative():
    scores = log_scores(
        _two_logs(),
        onset_ns=100,
        node_rule="service",
        pre_ns=100,
        post_ns=100,
        top=1,
        statistic="relative",
    )
    # a: "ok" share 1 -> 0.5 (0.5), "boom" new (1.0); volume share 6/16 -> 12/22
    assert scores["a"] == 1.0
    assert scores["b"] == pytest.approx((10 / 16 - 10 / 22) / (10 / 16))
    with pytest.raises(GraphadInputError, match="statistic"):
        log_scores(_two_logs(), onset_ns=100, node_rule="service", statistic="share")


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
