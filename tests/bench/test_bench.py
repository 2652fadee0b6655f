import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

from graphad.bench import (
    BenchResult,
    format_table,
    run_logs_benchmark,
    run_mts_benchmark,
    run_rca_benchmark,
)
from graphad.datasets.base import FaultCase, Incident, MTSEntity
from graphad.detectors.base import BaseDetector
from graphad.exceptions import GraphadInputError
from graphad.rca.result import RCAResult

MIN = 60 * 10**9


def _case(case_id, system, root_cause, fault_type, onset=100 * MIN):
    metrics = pd.DataFrame(
        {
            "ts_ns": np.arange(onset - 10 * MIN, onset + 5 * MIN, MIN, dtype=np.int64),
            "node": "frontend-579b9bff58-t2dbm",
            "metric": "cpu",
            "value": 1.0,
        }
    )
    graph = nx.DiGraph([("frontend", "cart"), ("frontend", "checkout"), ("checkout", "cart")])
    return FaultCase(
        case_id,
        system,
        onset,
        root_cause,
        fault_type,
        metrics=metrics,
        call_graph=graph,
        root_cause_entity=f"{root_cause}-abcde12-fghij",
        meta={"root_cause_detail": root_cause, "inject_time": "secret"},
    )


CASES = [
    _case("c1", "shop", "cart", "cpu"),
    _case("c2", "shop", "checkout", "delay"),
    _case("c3", "bank", "frontend", "cpu"),
    _case("c4", "bank", "cart", "delay"),
]


class FixedRanker:
    """Always the same ranking: cart, checkout, frontend."""

    name = "fixed"

    def __init__(self):
        self.seen = []

    def rank(self, case):
        self.seen.append(case)
        return RCAResult(["cart", "checkout", "frontend"], [3.0, 2.0, 1.0], method="fixed")


class PodRanker:
    def rank(self, case):
        nodes = ["cart-7d9f8b6c5d-abcde", "cart-7d9f8b6c5d-xyzzy", "frontend-579b9bff58-t2dbm"]
        return RCAResult(nodes, [3.0, 2.0, 1.0])


class FittedRanker(FixedRanker):
    name = "fitted"

    def fit(self, data):
        self.fitted_on_ = data
        return self


def test_rca_benchmark_hand_computed_accuracy():
    ranker = FixedRanker()
    result = run_rca_benchmark(CASES, [ranker])
    ranks = [r["rank"] for r in result.records]
    assert ranks == [1, 2, 3, 1]
    overall = result.tables["overall"].iloc[0]
    assert overall["cases"] == 4
    assert overall["AC@1"] == 0.5
    assert overall["AC@3"] == 1.0
    assert overall["Avg@5"] == pytest.approx((0.5 + 0.75 + 1 + 1 + 1) / 5)
    assert overall["MRR"] == pytest.approx((1 + 0.5 + 1 / 3 + 1) / 4)
    by_system = result.tables["by_system"].set_index("system")
    assert by_system.loc["shop", "AC@1"] == 0.5 and by_system.loc["bank", "MRR"] == pytest.approx(
        (1 / 3 + 1) / 2
    )
    by_type = result.tables["by_fault_type"].set_index("fault_type")
    assert by_type.loc["cpu", "AC@1"] == 0.5 and by_type.loc["delay", "AC@3"] == 1.0
    assert result.records[0]["top"] == ["cart", "checkout", "frontend"]
    assert all(r["seconds"] >= 0 for r in result.records)


def test_rankers_never_see_the_answer():
    ranker = FixedRanker()
    run_rca_benchmark(CASES, {"fixed": ranker})
    assert len(ranker.seen) == len(CASES)
    for view, case in zip(ranker.seen, CASES, strict=True):
        assert type(view) is Incident and view.meta == {}
        assert not hasattr(view, "root_cause") and not hasattr(view, "fault_type")
        assert view.onset_ns == case.onset_ns and view.case_id == case.case_id
        assert view.call_graph is case.call_graph
    # the original cases are untouched
    assert CASES[0].root_cause == "cart" and CASES[0].meta["inject_time"] == "secret"


def test_estimated_onset_hides_the_true_onset():
    seen = []

    def estimator(case):
        seen.append(case)
        assert case.onset_ns is None and not hasattr(case, "root_cause")
        return int(case.metrics["ts_ns"].max())  # the last sample: 4 minutes late

    ranker = FixedRanker()
    result = run_rca_benchmark(
        CASES,
        [ranker],
        onset="estimated",
        onset_estimator=estimator,
        hide_window_start=3 * MIN,
        random_state=1,
    )
    assert len(seen) == 4
    # case ids may carry the injection time: opaque, stable ids instead
    assert all(v.case_id.startswith("case-") for v in seen + ranker.seen)
    assert [v.case_id for v in seen] == [v.case_id for v in ranker.seen]
    assert [r["case_id"] for r in result.records] == ["c1", "c2", "c3", "c4"]
    assert all(r["onset_error_s"] == 240.0 for r in result.records)
    assert [v.onset_ns for v in ranker.seen] == [c.onset_ns + 4 * MIN for c in CASES]
    # the estimator saw a cropped window: fewer than the 15 samples of the case
    assert any(len(c.metrics) < 15 for c in seen)
    assert result.tables["overall"]["|onset err| s"].iloc[0] == 240.0
    assert result.config["onset"] == "estimated"


def test_node_rule_maps_pods_and_deduplicates():
    result = run_rca_benchmark(CASES, [PodRanker()], node_rule="service")
    assert result.records[0]["top"] == ["cart", "frontend"]
    assert [r["rank"] for r in result.records] == [1, None, 2, 1]
    plain = run_rca_benchmark(CASES, [PodRanker()])
    assert all(r["rank"] is None for r in plain.records)


def test_fit_data_and_error_recording():
    class Broken:
        def rank(self, case):
            raise RuntimeError("boom")

    fitted = FittedRanker()
    result = run_rca_benchmark(
        iter(CASES), {"ok": fitted, "broken": Broken()}, fit_data="normal period", errors="record"
    )
    assert fitted.fitted_on_ == "normal period"
    overall = result.tables["overall"].set_index("ranker")
    assert overall.loc["broken", "AC@5"] == 0.0
    assert overall.loc["ok", "fit s"] >= 0 and np.isnan(overall.loc["broken", "fit s"])
    assert "boom" in next(r for r in result.records if r["ranker"] == "broken")["error"]
    with pytest.raises(RuntimeError, match="boom"):
        run_rca_benchmark(CASES, [Broken()])


def test_dataset_object_with_cases_method():
    class Dataset:
        def cases(self):
            yield from CASES[:2]

    result = run_rca_benchmark(Dataset(), [FixedRanker()])
    assert result.tables["overall"]["cases"].iloc[0] == 2


def test_rca_result_json_roundtrip_and_table(tmp_path):
    result = run_rca_benchmark(CASES, [FixedRanker()])
    path = tmp_path / "out.json"
    result.to_json(path)
    data = json.loads(path.read_text())
    assert data["kind"] == "rca" and len(data["records"]) == 4
    assert data["tables"]["overall"][0]["AC@1"] == 0.5
    back = BenchResult.from_dict(data)
    assert back.tables["overall"]["AC@3"].iloc[0] == 1.0
    text = result.format()
    assert text.splitlines()[0] == "overall" and "by_fault_type" in text
    assert "fixed" in format_table(result.tables["overall"])
    assert result.to_frame().shape[0] == 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"onset": "guess"}, "unknown onset mode"),
        ({"errors": "ignore"}, "unknown error mode"),
    ],
)
def test_rca_bad_options(kwargs, match):
    with pytest.raises(GraphadInputError, match=match):
        run_rca_benchmark(CASES, [FixedRanker()], **kwargs)


def test_rca_bad_rankers_and_cases():
    with pytest.raises(GraphadInputError, match="Could not resolve|no ranker registry"):
        run_rca_benchmark(CASES, "no-such-ranker")
    with pytest.raises(GraphadInputError, match="not a ranker"):
        run_rca_benchmark(CASES, [object()])
    with pytest.raises(GraphadInputError, match="two methods share a name"):
        run_rca_benchmark(CASES, [FixedRanker(), FixedRanker()])
    with pytest.raises(GraphadInputError, match="no fault case"):
        run_rca_benchmark([], [FixedRanker()])

    class NoResult:
        def rank(self, case):
            return ["cart"]

    with pytest.raises(GraphadInputError, match="returned no ranking"):
        run_rca_benchmark(CASES, [NoResult()])
    with pytest.raises(GraphadInputError, match="returned no onset"):
        run_rca_benchmark(
            CASES, [FixedRanker()], onset="estimated", onset_estimator=lambda case: "soon"
        )


# -- multivariate time series ----------------------------------------------------------
class LastStepDeviation(BaseDetector):
    """|last step - training mean| / training std per node (a test-only detector)."""

    def __init__(self, window_size: int = 4, contamination: float = 0.01):
        self.window_size = window_size
        self.contamination = contamination

    def _fit(self, batch):
        values = batch.x[:, :, -1, 0]
        self.mean_ = values.mean(0)
        self.std_ = values.std(0) + 1e-6

    def _score_nodes(self, batch):
        return ((batch.x[:, :, -1, 0] - self.mean_) / self.std_).abs()


class Recorder(LastStepDeviation):
    frames: list = []

    def fit(self, windows, y=None):
        Recorder.frames.append(("fit", windows.copy()))
        return super().fit(windows, y)

    def score_windows(self, windows):
        Recorder.frames.append(("score", windows.copy()))
        return super().score_windows(windows)


def _entity(name, seed):
    rng = np.random.default_rng(seed)
    columns = ["m1", "m2", "m3"]
    train = pd.DataFrame(rng.normal(0, 1, (200, 3)), columns=columns)
    test = pd.DataFrame(rng.normal(0, 1, (100, 3)), columns=columns)
    labels = np.zeros(100, dtype=np.int64)
    labels[40:50] = 1
    test.loc[40:49, "m2"] += 8.0  # the anomaly lives in m2
    labels[80:83] = 1
    test.loc[80:82, "m3"] += 8.0
    return MTSEntity(name, train, test, labels, [(40, 49, ["m2"]), (80, 82, ["m3"])])


ENTITIES = [_entity("srv-1", 0), _entity("srv-2", 1)]


def test_mts_benchmark_on_synthetic_entities():
    result = run_mts_benchmark(
        ENTITIES, {"dev": LastStepDeviation(window_size=4)}, vus_buffer=10, point_adjust=True
    )
    per_entity = result.tables["per_entity"]
    assert list(per_entity["entity"]) == ["srv-1", "srv-1", "srv-2", "srv-2"]
    assert list(per_entity["detector"]) == ["dev", "random"] * 2
    dev = per_entity[per_entity["detector"] == "dev"]
    assert (dev["AUC-ROC"] > 0.99).all() and (dev["best F1"] > 0.9).all()
    assert (dev["HR@100"] == 1.0).all() and (dev["ADR"] == 1.0).all()
    random = per_entity[per_entity["detector"] == "random"]
    assert (random["AUC-PR"] < 0.5).all()
    assert {"VUS-PR", "VUS-ROC", "F1@thr", "PA-F1", "PA-F1 random", "fit s", "score s"} <= set(
        per_entity.columns
    )
    mean = result.tables["mean"].set_index("detector")
    assert mean.loc["dev", "entities"] == 2
    assert mean.loc["dev", "AUC-PR"] == pytest.approx(dev["AUC-PR"].mean())
    json.loads(result.to_json())


def test_mts_detector_sees_no_label_and_gets_training_context():
    Recorder.frames = []
    run_mts_benchmark(
        ENTITIES[:1], [Recorder], params={"Recorder": {"window_size": 6}}, random_baseline=False
    )
    (fit_kind, fit_frame), (score_kind, score_frame) = Recorder.frames
    assert fit_kind == "fit" and fit_frame.equals(ENTITIES[0].train)
    assert score_kind == "score" and list(score_frame.columns) == ["m1", "m2", "m3"]
    assert len(score_frame) == 100 + 5  # 5 training steps of context
    np.testing.assert_array_equal(
        score_frame.iloc[:5].to_numpy(), ENTITIES[0].train.iloc[-5:].to_numpy()
    )


def test_mts_bad_detector():
    with pytest.raises(GraphadInputError, match="not a detector"):
        run_mts_benchmark(ENTITIES, [42])
    with pytest.raises(GraphadInputError, match="Could not resolve"):
        run_mts_benchmark(ENTITIES, ["NoSuchDetector"])
    with pytest.raises(GraphadInputError, match="no entity"):
        run_mts_benchmark([], [LastStepDeviation])


def test_mts_benchmark_on_two_real_asd_servers(shared_data):
    result = run_mts_benchmark(
        shared_data / "asd", {"dev": LastStepDeviation(window_size=1)}, entities=["omi-1", "omi-2"]
    )
    mean = result.tables["mean"].set_index("detector")
    assert mean.loc["dev", "entities"] == 2
    # a z-score of the raw metrics beats random scores on real data
    assert mean.loc["dev", "AUC-ROC"] > mean.loc["random", "AUC-ROC"]
    assert mean.loc["dev", "VUS-PR"] > mean.loc["random", "VUS-PR"]
    assert 0.3 < mean.loc["random", "AUC-ROC"] < 0.7
    assert mean.loc["dev", "HR@100"] > mean.loc["random", "HR@100"]


# -- log sessions ----------------------------------------------------------------------
class UnseenTransitions:
    """Share of event transitions never seen in training (a test-only session detector)."""

    def __init__(self, contamination: float = 0.05):
        self.contamination = contamination

    def fit(self, sessions, y=None):
        self.pairs_ = {(a, b) for s in sessions for a, b in zip(s[:-1], s[1:], strict=True)}
        self.threshold_ = 0.0
        return self

    def score_windows(self, sessions):
        scores = []
        for s in sessions:
            pairs = list(zip(s[:-1], s[1:], strict=True))
            scores.append(np.mean([p not in self.pairs_ for p in pairs]) if pairs else 0.0)
        return torch.tensor(scores)


class Sessions:
    def __init__(self, normal_test=None):
        rng = np.random.default_rng(0)
        self.train = [[1, 2, 3, 4] * int(rng.integers(1, 3)) for _ in range(50)]
        self.test_abnormal = [[1, 2, 5, 4], [1, 3, 2, 4], [1, 2, 3, 4]]
        self.test_normal = normal_test


def test_logs_benchmark_with_holdout():
    result = run_logs_benchmark(Sessions(), [UnseenTransitions], holdout=0.2)
    row = result.tables["sessions"].iloc[0]
    assert row["train"] == 40 and row["test normal"] == 10 and row["test abnormal"] == 3
    # two abnormal sessions have unseen transitions, one looks normal
    assert row["TPR"] == pytest.approx(2 / 3) and row["FPR"] == 0.0
    assert row["AUC-ROC"] == pytest.approx((2 * 10 + 0.5 * 10) / 30)
    assert "held out" in result.config["protocol"]


def test_logs_benchmark_with_given_normal_sessions():
    data = Sessions(normal_test=[[1, 2, 3, 4]] * 4)
    result = run_logs_benchmark(data, {"unseen": UnseenTransitions()}, max_test=4)
    row = result.tables["sessions"].iloc[0]
    assert row["train"] == 50 and row["test normal"] == 2 and row["test abnormal"] == 2
    assert result.config["protocol"].startswith("given")


def test_logs_benchmark_features_hook_sees_no_labels():
    seen = {}

    def features(train, test):
        seen["args"] = (len(train), len(test))
        return [s[::-1] for s in train], [s[::-1] for s in test]

    result = run_logs_benchmark(Sessions(), [UnseenTransitions], features=features)
    assert seen["args"] == (40, 13)
    assert result.tables["sessions"]["TPR"].iloc[0] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"holdout": 1.5}, "holdout must be in"),
        ({"protocol": "given"}, "no normal test sessions"),
        ({"protocol": "labelled"}, "needs the dataset folder"),
        ({"protocol": "other"}, "unknown protocol"),
    ],
)
def test_logs_bad_options(kwargs, match):
    with pytest.raises(GraphadInputError, match=match):
        run_logs_benchmark(Sessions(), [UnseenTransitions], **kwargs)


def test_logs_benchmark_on_real_hdfs_labelled(shared_data):
    result = run_logs_benchmark(
        shared_data / "hdfs", [UnseenTransitions], protocol="labelled", max_test=400
    )
    row = result.tables["sessions"].iloc[0]
    assert row["train"] > 4800 and row["test normal"] == 200 and row["test abnormal"] == 200
    assert row["AUC-ROC"] > 0.6
    assert "robust_log_valid" in result.config["protocol"]


def test_rca_benchmark_on_simulated_faults_with_registered_rankers():
    from graphad.datasets import make_microservice_system

    cases = [
        make_microservice_system(6, duration="1h", fault_type=kind, random_state=seed).case
        for seed, kind in [(1, "latency"), (2, "cpu"), (3, "errors")]
    ]
    result = run_rca_benchmark(cases, "baro,random")
    overall = result.tables["overall"].set_index("ranker")
    assert list(overall.index) == ["baro", "random"]
    assert (overall["cases"] == 3).all()
    assert overall.loc["baro", "MRR"] > overall.loc["random", "MRR"]
    assert set(result.tables["by_fault_type"]["fault_type"]) == {"latency", "cpu", "errors"}
    again = run_rca_benchmark(cases, "random")
    assert [r["rank"] for r in again.records] == [
        r["rank"] for r in result.records if r["ranker"] == "random"
    ]


def test_failed_onset_estimation_is_recorded_or_raised():
    def estimator(case):
        raise ValueError("too little telemetry")

    result = run_rca_benchmark(
        CASES, [FixedRanker()], onset="estimated", onset_estimator=estimator, errors="record"
    )
    assert all(r["rank"] is None and "too little" in r["error"] for r in result.records)
    assert result.tables["overall"]["AC@5"].iloc[0] == 0.0
    with pytest.raises(ValueError, match="too little"):
        run_rca_benchmark(CASES, [FixedRanker()], onset="estimated", onset_estimator=estimator)


def test_several_root_causes_hit_and_recall():
    two = _case("c5", "shop", "checkout", "delay")
    two.root_causes = ["checkout", "frontend"]  # ranked 2 and 3 by FixedRanker
    assert _case("c6", "shop", "cart", "cpu").root_causes == ["cart"]
    assert not hasattr(two.blind(), "root_causes")
    result = run_rca_benchmark([CASES[0], two], [FixedRanker()])
    assert [r["rank"] for r in result.records] == [1, 2]
    assert result.records[1]["cause_ranks"] == [2, 3]
    row = result.tables["overall"].iloc[0]
    assert row["AC@1"] == 0.5 and row["AC@3"] == 1.0
    # recall: case 1 has its one cause in the top 1; case 2 none of two in the top 1,
    # one of two in the top 2, both in the top 3
    assert row["R@1"] == 0.5 and row["R@3"] == 1.0
    single = run_rca_benchmark(CASES, [FixedRanker()]).tables["overall"]
    assert "R@1" not in single.columns  # one cause per case: AC@k says it all


def test_unreadable_case_is_an_error_row_and_the_run_goes_on():
    class Dataset:
        def faults(self):
            return pd.DataFrame(
                {
                    "case_id": ["c1", "bad", "c2"],
                    "system": "shop",
                    "root_cause": ["cart", "cart", "checkout"],
                    "fault_type": "cpu",
                }
            )

        def case(self, case_id):
            if case_id == "bad":
                raise ValueError("record cut short")
            return next(c for c in CASES if c.case_id == case_id)

    result = run_rca_benchmark(Dataset(), [FixedRanker()], errors="record")
    assert [r["case_id"] for r in result.records] == ["c1", "bad", "c2"]
    bad = result.records[1]
    assert bad["rank"] is None and "record cut short" in bad["error"]
    assert result.tables["overall"].iloc[0]["cases"] == 3
    with pytest.raises(ValueError, match="cut short"):
        run_rca_benchmark(Dataset(), [FixedRanker()])


def test_fit_data_per_system():
    fitted = FittedRanker()
    result = run_rca_benchmark(CASES, {"f": fitted}, fit_data={"shop": "shop ref", "bank": "b"})
    assert not hasattr(fitted, "fitted_on_")  # one fitted copy per system, not the original
    assert [r["rank"] for r in result.records] == [1, 2, 3, 1]
    assert result.tables["overall"].loc[0, "fit s"] >= 0
