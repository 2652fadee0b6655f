"""The vectorised builder against a plain pandas group-by reference on random spans."""

import numpy as np
import pandas as pd
import pytest

from graphad.graph import WindowSpec, build_dynamic_graph


def _random_spans(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trace = rng.integers(0, 40, size=n)
    span_id = [f"s{i}" for i in range(n)]
    parent = []
    for i in range(n):  # parent: an earlier span of the same trace, or none / a lost one
        earlier = np.flatnonzero(trace[:i] == trace[i])
        choice = rng.random()
        if len(earlier) and choice < 0.8:
            parent.append(span_id[int(rng.choice(earlier))])
        else:
            parent.append("lost" if choice > 0.95 else "")
    return pd.DataFrame(
        {
            "trace_id": [f"t{t}" for t in trace],
            "span_id": span_id,
            "parent_id": parent,
            "service": rng.choice(["a", "b", "c", "d", "e"], size=n),
            "start_ns": np.sort(rng.integers(0, 1000, size=n)),
            "duration_ns": rng.integers(0, 50_000_000, size=n),
            "status": (rng.random(n) < 0.2).astype(np.int8),
            "kind": rng.choice(["server", "client", ""], size=n, p=[0.6, 0.2, 0.2]),
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_builder_matches_groupby_reference(seed):
    spans = _random_spans(seed)
    spec = WindowSpec.of(200, stride=100, step=50)
    g = build_dynamic_graph(spans, spec=spec, start_ns=0, end_ns=1000)
    names = g.vocab.names
    assert names == ["a", "b", "c", "d", "e"] and len(g) == 9

    requests = spans[spans["kind"] != "client"].assign(ms=lambda f: f["duration_ns"] / 1e6)
    requests = requests.assign(step=requests["start_ns"] // 50)
    by_parent = spans.set_index("span_id")
    calls = spans[spans["parent_id"].isin(spans["span_id"])].copy()
    calls["caller"] = by_parent.loc[calls["parent_id"], "service"].to_numpy()
    calls = calls[calls["caller"] != calls["service"]]
    grouped = requests.groupby(["step", "service"])["ms"]
    ref_x = pd.concat(
        [grouped.size(), requests.groupby(["step", "service"])["status"].sum(), grouped.mean()]
        + [grouped.quantile(q) for q in (0.5, 0.9, 0.99)],
        axis=1,
    )
    for window in g:
        start = int(window.window_start)
        expected = np.zeros((len(names), spec.num_steps, 6))
        for (step, name), row in ref_x.iterrows():
            if start // 50 <= step < start // 50 + spec.num_steps:
                expected[names.index(name), step - start // 50] = row.to_numpy()
        np.testing.assert_allclose(window.x.double().numpy(), expected, rtol=1e-5, atol=1e-5)
        inside = calls[(calls["start_ns"] >= start) & (calls["start_ns"] < start + 200)]
        ref = inside.groupby(["caller", "service"]).agg(
            calls=("status", "size"), errors=("status", "sum"), latency=("duration_ns", "mean")
        )
        got = {
            (names[s], names[d]): a
            for s, d, a in zip(
                window.edge_index[0].tolist(),
                window.edge_index[1].tolist(),
                window.edge_attr.double().numpy(),
                strict=True,
            )
        }
        assert set(got) == set(ref.index)
        for key, row in ref.iterrows():
            np.testing.assert_allclose(
                got[key], [row["calls"], row["errors"], row["latency"] / 1e6], rtol=1e-5
            )
