"""Session detectors (e.g. DeepLog) on HDFS-style log sessions: :func:`run_logs_benchmark`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graphad.bench.methods import detector_factory, named_methods, progress
from graphad.bench.mts import to_numpy
from graphad.bench.result import BenchResult
from graphad.datasets.logsets import load_hdfs_labelled, load_hdfs_sessions
from graphad.eval.detection import auc_pr, auc_roc, best_f1, f1_at_threshold, tpr_fpr
from graphad.exceptions import GraphadInputError

__all__ = ["run_logs_benchmark"]


_LOG_PROTOCOLS = ("auto", "given", "holdout", "labelled")


def _subsample(part: list, n: int, rng: np.random.Generator) -> list:
    n = min(len(part), n)
    return [part[i] for i in np.sort(rng.choice(len(part), n, replace=False))]


def _log_split(
    data: Any, protocol: str, holdout: float, max_test: int | None, rng: np.random.Generator
) -> tuple[list, list, np.ndarray, str]:
    """Training sessions, test sessions and their labels; every choice is seeded."""
    if protocol not in _LOG_PROTOCOLS:
        raise GraphadInputError(
            "unknown protocol",
            field="protocol",
            expected=f"one of {list(_LOG_PROTOCOLS)}",
            found=repr(protocol),
        )
    root = data if isinstance(data, (str, Path)) else None
    if root is not None:
        data = load_hdfs_sessions(root)
    train = list(data.train)
    normal = list(data.test_normal) if getattr(data, "test_normal", None) else None
    if protocol == "auto":
        protocol = "given" if normal is not None else "holdout"
    if protocol == "given":
        if normal is None:
            raise GraphadInputError(
                "the data has no normal test sessions",
                field="protocol",
                expected="test_normal sessions, or protocol 'holdout' / 'labelled'",
                found="none",
            )
        abnormal = list(data.test_abnormal)
        text = "given normal and abnormal test sessions"
    elif protocol == "holdout":
        if not 0.0 < holdout < 1.0:
            raise GraphadInputError(
                "holdout must be in (0, 1)",
                field="holdout",
                expected="0 < holdout < 1",
                found=holdout,
            )
        order = rng.permutation(len(train))
        cut = int(round(len(train) * (1.0 - holdout)))
        normal = [train[i] for i in order[cut:]]
        train = [train[i] for i in order[:cut]]
        abnormal = list(data.test_abnormal)
        text = (
            f"{holdout:.0%} of the normal training sessions held out as normal test "
            "sessions (before fitting), all abnormal test sessions"
        )
    else:
        if root is None:
            raise GraphadInputError(
                "protocol 'labelled' needs the dataset folder",
                field="data",
                expected="a folder path",
                found=type(data).__name__,
            )
        sequences, labels = load_hdfs_labelled(root, "valid")
        normal = [s for s, y in zip(sequences, labels, strict=True) if y == 0]
        abnormal = [s for s, y in zip(sequences, labels, strict=True) if y == 1]
        text = "all training sessions; test on the labelled robust_log_valid.csv"
    if max_test is not None:
        normal = _subsample(normal, int(max_test) // 2, rng)
        abnormal = _subsample(abnormal, int(max_test) // 2, rng)
        text += f"; at most {int(max_test) // 2} test sessions per class (seeded)"
    test = normal + abnormal
    labels = np.r_[np.zeros(len(normal), np.int64), np.ones(len(abnormal), np.int64)]
    return train, test, labels, text


def run_logs_benchmark(
    data: Any,
    detectors: Any,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    protocol: str = "auto",
    holdout: float = 0.2,
    max_test: int | None = None,
    features: Callable[[list, list], tuple[Any, Any]] | None = None,
    random_state: int = 0,
    verbose: bool = False,
) -> BenchResult:
    """Session detectors (e.g. DeepLog) on HDFS-style log sessions.

    Detectors are fitted on normal training sessions and score each test session
    (``score_windows(sessions) -> [S]``); alarms use ``threshold_``, fitted on the
    training sessions only. Test sets (``protocol``):

    * ``"given"``: the data's normal and abnormal test sessions;
    * ``"holdout"``: a seeded ``holdout`` share of the normal training sessions is set
      aside as normal test sessions *before* fitting, plus every abnormal test session
      (for data without a normal test file, like the shared HDFS copy);
    * ``"labelled"``: all training sessions for fitting, the balanced labelled
      ``robust_log_valid.csv`` for testing (needs a folder);
    * ``"auto"``: ``"given"`` when there are normal test sessions, else ``"holdout"``.

    Args:
        data: A folder for :func:`graphad.datasets.load_hdfs_sessions`, or an object with
            ``train``, ``test_abnormal`` and ``test_normal`` (may be ``None``) lists of
            event-id sequences.
        detectors: As in :func:`run_mts_benchmark` (names, classes, instances, dict).
        params: Constructor keyword arguments per detector label.
        protocol: See above.
        holdout: Share of training sessions held out by ``"holdout"``.
        max_test: Subsample at most ``max_test // 2`` test sessions per class (seeded).
        features: Optional ``(train_sessions, test_sessions) -> (train_input,
            test_input)``, e.g. event-count vectors or session graphs for window
            detectors; it never sees labels.
        random_state: Seed of the split and the subsampling.
        verbose: Show a progress bar.

    Returns:
        :class:`BenchResult` with one record per detector (set sizes, AUC-ROC, AUC-PR,
        best F1, and F1/P/R/TPR/FPR/accuracy at ``threshold_``, fit and score seconds)
        and the table ``sessions``; ``config["protocol"]`` describes the test set.
    """
    params = params or {}
    rng = np.random.default_rng(random_state)
    train, test, labels, text = _log_split(data, protocol, holdout, max_test, rng)
    methods = [
        (label, detector_factory(spec, params.get(label)))
        for label, spec in named_methods(detectors)
    ]
    train_input, test_input = features(train, test) if features is not None else (train, test)
    records = []
    for label, factory in progress(methods, verbose, "detectors"):
        detector = factory()
        began = time.perf_counter()
        detector.fit(train_input)
        fit_seconds = time.perf_counter() - began
        began = time.perf_counter()
        scores = to_numpy(detector.score_windows(test_input)).ravel()
        score_seconds = time.perf_counter() - began
        if scores.shape[0] != len(test):
            raise GraphadInputError(
                "the detector did not score every session",
                field=label,
                expected=f"{len(test)} scores",
                found=scores.shape[0],
            )
        threshold = float(detector.threshold_)
        at = f1_at_threshold(labels, scores, threshold)
        rates = tpr_fpr(labels, (scores > threshold).astype(np.int64))
        records.append(
            {
                "detector": label,
                "train": len(train),
                "test normal": int((labels == 0).sum()),
                "test abnormal": int(labels.sum()),
                "AUC-ROC": auc_roc(labels, scores),
                "AUC-PR": auc_pr(labels, scores),
                "best F1": best_f1(labels, scores).f1,
                "F1@thr": at.f1,
                "P@thr": at.precision,
                "R@thr": at.recall,
                "TPR": rates.tpr,
                "FPR": rates.fpr,
                "ACC": rates.accuracy,
                "fit s": fit_seconds,
                "score s": score_seconds,
            }
        )
    config = {
        "detectors": [label for label, _ in methods],
        "protocol": text,
        "holdout": holdout,
        "max_test": max_test,
        "random_state": random_state,
        "params": params,
    }
    return BenchResult("logs", records, {"sessions": pd.DataFrame(records)}, config)
