"""Detectors over a multivariate-series dataset (the ASD layout): :func:`run_mts_benchmark`.

A detector receives the training frame and the test frame without its labels; only the
scoring code, after the detector has returned, reads them. Thresholds come from the
detectors' ``threshold_``, fitted on training scores.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graphad.bench.methods import detector_factory, named_methods, progress
from graphad.bench.result import BenchResult
from graphad.datasets.mts import MultivariateCSV
from graphad.detectors.threshold import fit_threshold
from graphad.eval.detection import (
    auc_pr,
    auc_roc,
    best_f1,
    event_detection_rate,
    f1_at_threshold,
    point_adjusted_f1_with_baseline,
    tpr_fpr,
)
from graphad.eval.localization import hit_rate_at_p
from graphad.eval.vus import vus
from graphad.exceptions import GraphadInputError

__all__ = ["run_mts_benchmark", "to_numpy"]

logger = logging.getLogger(__name__)


def _entities(root: Any, entities: Iterable[str] | None) -> Iterable[Any]:
    if isinstance(root, (str, Path)):
        root = MultivariateCSV(root)
    if isinstance(root, MultivariateCSV):
        names = list(entities) if entities is not None else list(root.entities)
        return (root.load(name) for name in names)
    items = list(root)
    if entities is not None:
        wanted = set(entities)
        items = [e for e in items if e.name in wanted]
    return items


def _window_size(detector: Any) -> int:
    size = None
    if callable(getattr(detector, "get_params", None)):
        size = detector.get_params(deep=False).get("window_size")
    return int(size) if size else 1


def to_numpy(values: Any) -> np.ndarray:
    """A tensor or array-like as a float64 NumPy array."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def _mts_metrics(
    labels: np.ndarray,
    scores: np.ndarray,
    node_scores: np.ndarray | None,
    node_labels: np.ndarray | None,
    threshold: float | None,
    vus_buffer: int,
    point_adjust: bool,
    random_state: int,
) -> dict:
    """Everything the MTS table reports; the only place that reads test labels."""
    out: dict[str, float] = {}
    out["AUC-ROC"] = auc_roc(labels, scores)
    out["AUC-PR"] = auc_pr(labels, scores)
    volume = vus(labels, scores, vus_buffer)
    out["VUS-ROC"], out["VUS-PR"] = volume.roc, volume.pr
    out["best F1"] = best_f1(labels, scores).f1
    if threshold is not None and math.isfinite(threshold):
        at = f1_at_threshold(labels, scores, threshold)
        alarms = (scores > threshold).astype(np.int64)
        rates = tpr_fpr(labels, alarms)
        out.update(
            {
                "F1@thr": at.f1,
                "P@thr": at.precision,
                "R@thr": at.recall,
                "FPR@thr": rates.fpr,
                "ADR": event_detection_rate(labels, alarms),
            }
        )
    else:
        out.update(dict.fromkeys(("F1@thr", "P@thr", "R@thr", "FPR@thr", "ADR"), math.nan))
    usable = (
        node_scores is not None
        and node_labels is not None
        and node_scores.shape == node_labels.shape
        and node_labels.any()
    )
    out["HR@100"] = hit_rate_at_p(node_scores, node_labels, 1.0) if usable else math.nan
    out["HR@150"] = hit_rate_at_p(node_scores, node_labels, 1.5) if usable else math.nan
    if point_adjust:
        report = point_adjusted_f1_with_baseline(labels, scores, random_state=random_state)
        out["PA-F1"], out["PA-F1 random"] = report.f1, report.random_f1
    return out


def _score_entity(
    factory: Callable[[], Any], name: str, train: pd.DataFrame, test: pd.DataFrame
) -> dict:
    """Fit on ``train``, score ``test`` (with training context); sees no label."""
    detector = factory()
    began = time.perf_counter()
    detector.fit(train)
    fit_seconds = time.perf_counter() - began
    size = _window_size(detector)
    if size - 1 > len(train):
        raise GraphadInputError(
            "training set shorter than the window context",
            source=name,
            field="window_size",
            expected=f"<= {len(train) + 1}",
            found=size,
        )
    context = train.iloc[len(train) - (size - 1) :] if size > 1 else train.iloc[:0]
    series = pd.concat([context, test], ignore_index=True)
    began = time.perf_counter()
    scores = to_numpy(detector.score_windows(series)).ravel()
    score_seconds = time.perf_counter() - began
    if scores.shape[0] != len(test):
        raise GraphadInputError(
            "the detector did not score every test step",
            source=name,
            field="score_windows",
            expected=f"{len(test)} scores",
            found=scores.shape[0],
        )
    node_scores = to_numpy(detector.decision_function(series))
    threshold = getattr(detector, "threshold_", None)
    return {
        "scores": scores,
        "node_scores": node_scores,
        "threshold": None if threshold is None else float(threshold),
        "fit s": fit_seconds,
        "score s": score_seconds,
    }


def _random_entity(num_train: int, test_shape: tuple[int, int], random_state: int) -> dict:
    """Seeded uniform scores: the floor every detector must clear."""
    rng = np.random.default_rng(random_state)
    train_scores = rng.random(num_train)
    return {
        "scores": rng.random(test_shape[0]),
        "node_scores": rng.random(test_shape),
        "threshold": fit_threshold(train_scores),
        "fit s": math.nan,
        "score s": math.nan,
    }


def run_mts_benchmark(
    root: Any,
    detectors: Any,
    *,
    entities: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    vus_buffer: int = 100,
    point_adjust: bool = False,
    random_baseline: bool = True,
    random_state: int = 0,
    verbose: bool = False,
) -> BenchResult:
    """Detectors on a folder in the multivariate-CSV (ASD) layout, entity by entity.

    For each entity a fresh detector is fitted on the training frame; the test frame is
    scored with the last ``window_size - 1`` training steps prepended as context, so that
    every test step gets the window that ends there (no labels are involved). Alarms use
    the detector's ``threshold_``, fitted on training scores only. Node scores
    (``decision_function``) give HitRate@100%/150% against the interpretation labels
    when there is one score per metric.

    Args:
        root: Folder path, a :class:`graphad.datasets.MultivariateCSV`, or an iterable of
            :class:`~graphad.datasets.base.MTSEntity`.
        detectors: Names in ``graphad.detectors.DETECTORS`` (list or ``"a,b"``),
            detector classes, unfitted instances (cloned per entity with their
            parameters), factories, or a dict ``{label: any of these}``.
        entities: Restrict to these entity names.
        params: Constructor keyword arguments per detector label (for names/classes).
        vus_buffer: Largest VUS buffer length ``L``.
        point_adjust: Also report point-adjusted F1 beside that of random scores.
        random_baseline: Add a ``random`` row (seeded uniform scores).
        random_state: Seed of the random row and of the point-adjustment baseline.
        verbose: Show a progress bar.

    Returns:
        :class:`BenchResult` with one record per (entity, detector) and tables
        ``per_entity`` and ``mean`` (the mean over entities).
    """
    params = params or {}
    methods = [
        (label, detector_factory(spec, params.get(label)))
        for label, spec in named_methods(detectors)
    ]
    records = []
    for entity in progress(_entities(root, entities), verbose, "entities"):
        labels = np.asarray(entity.test_labels, dtype=np.int64)
        node_labels = entity.node_labels if entity.interpretation else None
        runs = [(label, factory) for label, factory in methods]
        if random_baseline:
            runs.append(("random", None))
        for label, factory in runs:
            if factory is None:
                output = _random_entity(len(entity.train), entity.test.shape, random_state)
            else:
                output = _score_entity(factory, entity.name, entity.train, entity.test)
            metrics = _mts_metrics(
                labels,
                output["scores"],
                output["node_scores"],
                node_labels,
                output["threshold"],
                vus_buffer,
                point_adjust,
                random_state,
            )
            records.append(
                {
                    "entity": entity.name,
                    "detector": label,
                    **metrics,
                    "fit s": output["fit s"],
                    "score s": output["score s"],
                }
            )
            logger.info("%s %s AUC-PR %.3f", entity.name, label, metrics["AUC-PR"])
    if not records:
        raise GraphadInputError(
            "no entity to run", field="entities", expected="at least one entity", found=0
        )
    frame = pd.DataFrame(records)
    order = list(dict.fromkeys(frame["detector"]))
    mean = (
        frame.drop(columns="entity")
        .groupby("detector", sort=False)
        .mean(numeric_only=True)
        .reindex(order)
        .reset_index()
    )
    mean.insert(
        1, "entities", frame.groupby("detector", sort=False).size().reindex(order).to_numpy()
    )
    per_entity = frame[
        ["entity", "detector"] + [c for c in frame.columns if c not in ("entity", "detector")]
    ]
    config = {
        "detectors": order,
        "vus_buffer": vus_buffer,
        "point_adjust": point_adjust,
        "random_state": random_state,
        "params": params,
    }
    return BenchResult("mts", records, {"per_entity": per_entity, "mean": mean}, config)
