"""Root-cause rankers over fault cases: :func:`run_rca_benchmark` and :func:`rca_summary`.

Leakage is impossible by construction: a ranker receives each fault case blinded
(:meth:`FaultCase.blind <graphad.ingest.telemetry.FaultCase.blind>`: an ``Incident``
without root cause, fault type or metadata); only the scoring code, after the ranker has
returned, reads the truth.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from graphad.bench.methods import make_ranker, named_methods, progress
from graphad.bench.result import BenchResult
from graphad.eval.ranking import ac_at_k, avg_at_k, mrr
from graphad.exceptions import GraphadInputError
from graphad.graph.rules import resolve_node_rule
from graphad.rca import estimate_onset

__all__ = ["run_rca_benchmark", "rca_summary"]

logger = logging.getLogger(__name__)


def _as_onset(value: Any) -> int:
    """Accept an int, or an object/tuple carrying the onset in ns."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    for attribute in ("onset_ns", "onset"):
        if hasattr(value, attribute):
            return int(getattr(value, attribute))
    if isinstance(value, tuple) and value:
        return int(value[0])
    raise GraphadInputError(
        "the onset estimator returned no onset",
        field="onset_estimator",
        expected="an int (ns) or an object with onset_ns",
        found=type(value).__name__,
    )


def _mapped_ranking(nodes: list[str], rule: Callable | None) -> list[str]:
    names = [str(n) for n in nodes]
    if rule is not None and names:
        names = [str(n) for n in rule(pd.Series(names, dtype=object)).tolist()]
    return list(dict.fromkeys(names))  # dedupe, keep the first (best) position


def _recall(cause_ranks: list, k: int) -> float:
    """Share of a case's true causes ranked in the top ``k``."""
    if not cause_ranks:
        return 0.0
    return sum(r is not None and r <= k for r in cause_ranks) / len(cause_ranks)


def rca_summary(
    records: pd.DataFrame, by: list[str], k: Iterable[int] = (1, 3, 5), avg_k: int = 5
) -> pd.DataFrame:
    """AC@k, Avg@k, MRR and seconds per case of RCA records grouped by ``by``.

    Args:
        records: One row per (case, ranker) with columns ``rank`` (1-based or missing)
            and ``seconds`` plus the grouping columns.
        by: Grouping columns, e.g. ``["ranker", "system"]``.
        k: The AC@k columns to report.
        avg_k: ``k`` of the Avg@k column.

    Returns:
        One row per group: ``by``, ``cases``, ``AC@k``..., ``Avg@avg_k``, ``MRR``,
        ``s/case``; with a ``cause_ranks`` column (the rank of every true cause of a
        case) where some case has several causes, also ``R@k``: the mean share of a
        case's causes in the top ``k`` (``AC@k`` counts a hit when any is).

    Example:
        >>> from graphad.bench import format_table
        >>> frame = pd.DataFrame({"ranker": ["a", "a"], "rank": [1, None],
        ...                       "seconds": [0.1, 0.3]})
        >>> print(format_table(rca_summary(frame, ["ranker"], k=(1,), avg_k=1)))
        ranker  cases   AC@1  Avg@1    MRR  s/case
        ------  -----  -----  -----  -----  ------
        a           2  0.500  0.500  0.500   0.200
    """
    rows = []
    for key, group in records.groupby(by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        ranks = [None if pd.isna(r) else int(r) for r in group["rank"]]
        row = dict(zip(by, key, strict=True))
        row["cases"] = len(ranks)
        for j in k:
            row[f"AC@{j}"] = ac_at_k(ranks, j)
        row[f"Avg@{avg_k}"] = avg_at_k(ranks, avg_k)
        row["MRR"] = mrr(ranks)
        if "cause_ranks" in group and any(
            isinstance(c, list) and len(c) > 1 for c in group["cause_ranks"]
        ):
            for j in k:
                row[f"R@{j}"] = float(
                    np.mean([_recall(c, j) for c in group["cause_ranks"] if isinstance(c, list)])
                )
        row["s/case"] = float(group["seconds"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def run_rca_benchmark(
    cases: Any,
    rankers: Any,
    *,
    onset: str = "true",
    onset_estimator: Callable[[Any], Any] | None = None,
    node_rule: str | Callable | None = None,
    fit_data: Any = None,
    hide_window_start: int = 0,
    random_state: int = 0,
    k: tuple[int, ...] = (1, 3, 5),
    errors: str = "raise",
    verbose: bool = False,
) -> BenchResult:
    """Run every fault case through every root-cause ranker and score the rankings.

    Each ranker gets blinded views only (:meth:`~graphad.ingest.telemetry.FaultCase.blind`:
    an :class:`~graphad.ingest.telemetry.Incident`, no truth, no metadata). With
    ``onset="estimated"`` the onset is first estimated from a view whose ``onset_ns`` is
    ``None`` (so an estimator that reads it fails instead of cheating); the estimate is then
    handed to every ranker and the estimation time is added to each ranker's seconds.
    ``hide_window_start`` crops a seeded random amount of up to that many ns from the start
    of the estimator's view, so a case window placed at a fixed offset from the onset does
    not reveal it.

    Args:
        cases: Iterable of :class:`~graphad.datasets.base.FaultCase`, or a dataset with a
            ``cases()`` method (e.g. :class:`graphad.datasets.Nezha`). Cases are read
            once, lazily, and run through all rankers in turn.
        rankers: Names in ``graphad.rca.RANKERS`` (a list or ``"a,b"``), ranker objects
            or classes (anything with ``rank(case) -> RCAResult``), or a dict
            ``{label: ranker}``.
        onset: ``"true"`` (the injected onset) or ``"estimated"``.
        onset_estimator: ``case -> onset ns`` for ``onset="estimated"``; default
            ``graphad.rca.estimate_onset``.
        node_rule: Maps the ranked node names to the level of the truth before matching
            (e.g. ``"service"`` when a ranker ranks pods); duplicates keep their best
            position. Default: names are compared as they are.
        fit_data: When given, every ranker with a ``fit`` method is fitted on it once
            (a mapping ``{system: data}``: one fitted copy of each ranker per system,
            each case ranked by its system's copy, or by the unfitted ranker when its
            system has no entry)
            before the cases (e.g. a fault-free period); the seconds are reported apart.
        hide_window_start: See above (ns, ``onset="estimated"`` only).
        random_state: Seed of ``hide_window_start``.
        k: The AC@k columns of the tables (Avg@ uses the largest).
        errors: ``"raise"`` or ``"record"`` (a failing ranker gets no rank for the case
            and the error text goes into the record).
        verbose: Show a progress bar.

    Returns:
        :class:`BenchResult` with records (``system, case_id, fault_type, root_cause,
        ranker, rank, top, seconds`` and, for estimated onsets, ``onset_error_s``) and
        tables ``overall``, ``by_system`` and ``by_fault_type``.

    Raises:
        GraphadInputError: Unknown ranker or option, a ranker that returns no ranking,
            or no case at all.
    """
    if onset not in ("true", "estimated"):
        raise GraphadInputError(
            "unknown onset mode", field="onset", expected="'true' or 'estimated'", found=repr(onset)
        )
    if errors not in ("raise", "record"):
        raise GraphadInputError(
            "unknown error mode", field="errors", expected="'raise' or 'record'", found=repr(errors)
        )
    pairs = [(label, make_ranker(spec)) for label, spec in named_methods(rankers)]
    rule = resolve_node_rule(node_rule) if node_rule is not None else None
    estimator = None
    if onset == "estimated":
        estimator = onset_estimator or estimate_onset
    fit_seconds: dict[str, float] = {}
    per_system: dict[str, list] = {}
    if isinstance(fit_data, Mapping):
        for system, data in fit_data.items():
            per_system[system] = [(label, copy.deepcopy(r)) for label, r in pairs]
            _fit_all(per_system[system], data, fit_seconds)
    elif fit_data is not None:
        _fit_all(pairs, fit_data, fit_seconds)
    rng = np.random.default_rng(random_state)
    records: list[dict] = []
    for case in progress(_iter_cases(cases, errors), verbose, "rca cases"):
        if isinstance(case, _Unreadable):
            records.extend(case.rows([label for label, _ in pairs]))
            continue
        chosen = per_system.get(case.system, pairs)
        records.extend(_run_case(case, chosen, estimator, rule, hide_window_start, rng, errors))
    if not records:
        raise GraphadInputError(
            "no fault case to run", field="cases", expected="at least one FaultCase", found=0
        )
    frame = pd.DataFrame(records)
    avg_k = max(k)
    tables = {
        "overall": rca_summary(frame, ["ranker"], k, avg_k),
        "by_system": rca_summary(frame, ["ranker", "system"], k, avg_k),
        "by_fault_type": rca_summary(frame, ["ranker", "fault_type"], k, avg_k),
    }
    if fit_seconds:
        tables["overall"]["fit s"] = tables["overall"]["ranker"].map(fit_seconds)
    if onset == "estimated":
        errors_s = frame.groupby("ranker", sort=False)["onset_error_s"]
        tables["overall"]["|onset err| s"] = tables["overall"]["ranker"].map(
            errors_s.apply(_median_abs)
        )
    config = {
        "onset": onset,
        "node_rule": str(node_rule),
        "k": list(k),
        "rankers": [label for label, _ in pairs],
        "fit_seconds": fit_seconds,
        "hide_window_start": hide_window_start,
        "random_state": random_state,
    }
    return BenchResult("rca", records, tables, config)


def _fit_all(pairs: list, data: Any, seconds: dict[str, float]) -> None:
    """Fit every ranker of ``pairs`` that has ``fit`` on ``data``; add up the seconds."""
    for label, ranker in pairs:
        if callable(getattr(ranker, "fit", None)):
            began = time.perf_counter()
            ranker.fit(data)
            seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - began


@dataclasses.dataclass
class _Unreadable:
    """A fault case whose telemetry could not be read (one error row per ranker)."""

    fault: Any
    error: Exception

    def rows(self, labels: list[str]) -> list[dict]:
        truth = {
            k: getattr(self.fault, k, "") for k in ("system", "case_id", "fault_type", "root_cause")
        }
        message = f"reading the case: {type(self.error).__name__}: {self.error}"
        return [
            {**truth, "ranker": label, "rank": None, "top": [], "seconds": 0.0, "error": message}
            for label in labels
        ]


def _iter_cases(cases: Any, errors: str) -> Iterable[Any]:
    """The fault cases of ``cases``; a dataset with ``faults()`` and ``case(case_id)``
    is read case by case, so that with ``errors="record"`` a case that cannot be read
    becomes an :class:`_Unreadable` (error rows) and the run goes on.
    """
    if callable(getattr(cases, "faults", None)) and callable(getattr(cases, "case", None)):
        for fault in cases.faults().itertuples(index=False):
            try:
                yield cases.case(fault.case_id)
            except Exception as exc:
                if errors == "raise":
                    raise
                logger.warning("case %s could not be read: %s", fault.case_id, exc)
                yield _Unreadable(fault, exc)
        return
    if callable(getattr(cases, "cases", None)):
        cases = cases.cases()
    yield from cases


def _median_abs(values: pd.Series) -> float:
    finite = np.abs(values.to_numpy(dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    return float(np.median(finite)) if finite.size else math.nan


def _run_case(case, pairs, estimator, rule, hide_window_start, rng, errors) -> list[dict]:
    truth = {
        "system": case.system,
        "case_id": case.case_id,
        "fault_type": case.fault_type,
        "root_cause": case.root_cause,
    }
    onset_ns, estimate_seconds, extra = None, 0.0, {}
    if estimator is not None:
        hidden = case.blind(hide_id=True)
        if hide_window_start > 0:
            first = case.first_time()
            if first is not None:
                hidden = hidden.crop(first + int(rng.integers(0, hide_window_start)))
        hidden.onset_ns = None
        began = time.perf_counter()
        try:
            onset_ns = _as_onset(estimator(hidden))
        except Exception as exc:
            if errors == "raise":
                raise
            logger.warning("onset estimation failed on case %s: %s", case.case_id, exc)
            message = f"onset estimation: {type(exc).__name__}: {exc}"
            return [
                {
                    **truth,
                    "ranker": label,
                    "rank": None,
                    "top": [],
                    "seconds": time.perf_counter() - began,
                    "onset_ns": None,
                    "onset_error_s": math.nan,
                    "error": message,
                }
                for label, _ in pairs
            ]
        estimate_seconds = time.perf_counter() - began
        extra = {"onset_ns": onset_ns, "onset_error_s": (onset_ns - case.onset_ns) / 1e9}
    out = []
    for label, ranker in pairs:
        view = case.blind(onset_ns, hide_id=estimator is not None)
        began = time.perf_counter()
        error = None
        try:
            result = ranker.rank(view)
            nodes = getattr(result, "nodes", None)
            if nodes is None:
                raise GraphadInputError(
                    "the ranker returned no ranking",
                    field=label,
                    expected="an RCAResult",
                    found=type(result).__name__,
                )
        except Exception as exc:
            if errors == "raise":
                raise
            logger.warning("ranker %s failed on case %s: %s", label, case.case_id, exc)
            nodes, error = [], f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - began + estimate_seconds
        ranking = _mapped_ranking(list(nodes), rule)
        cause_ranks = [ranking.index(c) + 1 if c in ranking else None for c in case.root_causes]
        found = [r for r in cause_ranks if r is not None]
        rank = min(found) if found else None  # a hit at k: any true cause in the top k
        record = {
            **truth,
            "ranker": label,
            "rank": rank,
            "cause_ranks": cause_ranks,
            "top": ranking[:5],
            "seconds": seconds,
            **extra,
        }
        if error is not None:
            record["error"] = error
        out.append(record)
    return out
