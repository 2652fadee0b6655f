"""The benchmark harness: run rankers over fault cases and detectors over datasets.

Three runners share one result type, :class:`BenchResult` (records + summary tables,
``to_frame()``, ``to_dict()`` / JSON, ``format()``):

* :func:`run_rca_benchmark`: every fault case through every root-cause ranker; AC@1,
  AC@3, AC@5, Avg@5 and MRR overall, per system and per fault type, seconds per case.
* :func:`run_mts_benchmark`: detectors on a multivariate-CSV folder (the ASD layout);
  AUC-ROC, AUC-PR, VUS-ROC/PR, best F1, F1 at the training threshold, ADR,
  HitRate@100%/150%, fit and score seconds, per entity and the mean.
* :func:`run_logs_benchmark`: session detectors (e.g. DeepLog) on HDFS sessions.

Leakage is impossible by construction: the code that runs a method only ever hands it
training data and *unlabelled* test data. A ranker receives a blinded copy of each fault
case (:func:`blind_case`: no root cause, no fault type, no metadata), a detector receives
the training frame and the test frame without its labels, and only the scoring code,
after the method has returned, reads the truth. Thresholds come from the detectors'
``threshold_``, fitted on training scores.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
from graphad.eval.ranking import ac_at_k, avg_at_k, mrr
from graphad.eval.vus import vus
from graphad.exceptions import GraphadInputError

__all__ = [
    "BenchResult",
    "blind_case",
    "crop_case",
    "format_table",
    "run_rca_benchmark",
    "run_mts_benchmark",
    "run_logs_benchmark",
    "rca_summary",
]

logger = logging.getLogger(__name__)


# -- result --------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclasses.dataclass
class BenchResult:
    """Outcome of a benchmark run.

    Attributes:
        kind: ``"rca"``, ``"mts"`` or ``"logs"``.
        records: One plain dict per (case, ranker) or (entity, detector) run.
        tables: Summary tables by name (e.g. ``"overall"``, ``"by_system"``,
            ``"by_fault_type"``; ``"per_entity"``, ``"mean"``).
        config: The settings of the run (JSON-able).

    Example:
        >>> r = BenchResult("rca", [{"ranker": "a", "rank": 1}],
        ...                 {"overall": pd.DataFrame({"ranker": ["a"], "AC@1": [1.0]})})
        >>> r.to_frame().shape, sorted(r.to_dict())
        ((1, 2), ['config', 'kind', 'records', 'tables'])
        >>> print(r.format())
        overall
        ranker   AC@1
        ------  -----
        a       1.000
    """

    kind: str
    records: list[dict]
    tables: dict[str, pd.DataFrame]
    config: dict = dataclasses.field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """All records as one DataFrame (one row per run)."""
        return pd.DataFrame(self.records)

    def to_dict(self) -> dict:
        """Plain-JSON view: kind, config, records and every table as a list of rows."""
        return {
            "kind": self.kind,
            "config": _jsonable(self.config),
            "records": _jsonable(self.records),
            "tables": {
                name: _jsonable(table.to_dict(orient="records"))
                for name, table in self.tables.items()
            },
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """Serialise :meth:`to_dict` as JSON; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: Mapping) -> BenchResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. a JSON file's content)."""
        try:
            tables = {name: pd.DataFrame(rows) for name, rows in data["tables"].items()}
            return cls(
                str(data["kind"]), list(data["records"]), tables, dict(data.get("config", {}))
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise GraphadInputError(
                "not a benchmark result",
                field=str(error),
                expected="keys 'kind', 'records', 'tables'",
            ) from error

    def format(self, digits: int = 3) -> str:
        """Every table as aligned text, each under its name."""
        return "\n\n".join(
            format_table(table, digits=digits, title=name) for name, table in self.tables.items()
        )

    def __str__(self) -> str:
        return self.format()


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            return "-"
        return f"{float(value):.{digits}f}"
    if value is None:
        return "-"
    return str(value)


def format_table(
    table: pd.DataFrame | BenchResult, digits: int = 3, title: str | None = None
) -> str:
    """Render a table as aligned plain text (numbers right-aligned, text left-aligned).

    Args:
        table: A summary table, or a :class:`BenchResult` (all its tables).
        digits: Decimals of floats; missing values print as ``-``.
        title: Optional line printed above the table.

    Returns:
        The text, without a trailing newline.

    Example:
        >>> print(format_table(pd.DataFrame({"ranker": ["pagerank", "random"],
        ...                                  "AC@1": [0.9, 0.1], "cases": [56, 56]})))
        ranker     AC@1  cases
        --------  -----  -----
        pagerank  0.900     56
        random    0.100     56
    """
    if isinstance(table, BenchResult):
        return table.format(digits)
    columns = [str(c) for c in table.columns]
    cells = [[_cell(v, digits) for v in row] for row in table.itertuples(index=False)]
    numeric = [
        pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        for c in table.columns
    ]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [] if title is None else [title]
    lines.append(line(columns))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)


# -- resolving methods ---------------------------------------------------------------
def _named(methods: Any) -> list[tuple[str, Any]]:
    """``"a,b"`` / list / dict / single object -> ``[(label, spec)]``."""
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    if isinstance(methods, Mapping):
        pairs = [(str(k), v) for k, v in methods.items()]
    elif isinstance(methods, (list, tuple)):
        pairs = [(_label(m), m) for m in methods]
    else:
        pairs = [(_label(methods), methods)]
    if not pairs:
        raise GraphadInputError(
            "no method to benchmark",
            field="methods",
            expected="at least one name or object",
            found="none",
        )
    labels = [label for label, _ in pairs]
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    if duplicates:
        raise GraphadInputError(
            "two methods share a name",
            field="methods",
            expected="distinct names (pass a dict to name them)",
            found=duplicates,
        )
    return pairs


def _label(method: Any) -> str:
    if isinstance(method, str):
        return method
    if isinstance(method, type):
        return method.__name__
    return str(getattr(method, "name", None) or type(method).__name__)


def _lookup(name: str, registry: Mapping[str, Any], what: str) -> Any:
    key = name.lower().replace("-", "_")
    lowered = {k.lower().replace("-", "_"): v for k, v in registry.items()}
    if key not in lowered:
        raise GraphadInputError(
            f"Could not resolve '{name}' among choices {sorted(registry)}", field=what
        )
    return lowered[key]


def _ranker_registry() -> Mapping[str, Any]:
    from graphad import rca

    registry = getattr(rca, "RANKERS", None)
    if registry is None:
        raise GraphadInputError(
            "no ranker registry: graphad.rca.RANKERS is missing",
            field="rankers",
            expected="ranker objects instead of names",
        )
    return registry


def _make_ranker(spec: Any) -> Any:
    if isinstance(spec, str):
        spec = _lookup(spec, _ranker_registry(), "rankers")
    if isinstance(spec, type):
        spec = spec()
    if not callable(getattr(spec, "rank", None)):
        raise GraphadInputError(
            "not a ranker",
            field="rankers",
            expected="an object with a rank(case) method",
            found=type(spec).__name__,
        )
    return spec


def _detector_factory(spec: Any, params: Mapping[str, Any] | None) -> Callable[[], Any]:
    """A callable that builds a fresh, unfitted detector for every entity."""
    params = dict(params or {})
    if isinstance(spec, str):
        from graphad.detectors import DETECTORS

        spec = _lookup(spec, DETECTORS, "detectors")
    if isinstance(spec, type):
        return lambda: spec(**params)
    if callable(getattr(spec, "get_params", None)):
        merged = {**spec.get_params(), **params}
        return lambda: type(spec)(**merged)
    if callable(getattr(spec, "fit", None)):
        return lambda: spec  # cannot be cloned: refitted for every entity
    if callable(spec):
        return spec
    raise GraphadInputError(
        "not a detector",
        field="detectors",
        expected="a name, a detector class or instance, or a factory",
        found=type(spec).__name__,
    )


def _progress(items: Iterable, verbose: bool, desc: str, total: int | None = None):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, disable=not verbose, leave=False)


# -- RCA -----------------------------------------------------------------------------
def blind_case(case: Any, onset_ns: int | None = None, *, hide_id: bool = False) -> Any:
    """A copy of a fault case without the answer, for a ranker to work on.

    ``root_cause`` and ``fault_type`` become ``""``, ``root_cause_entity`` ``None`` and
    ``meta`` empty (it may hold fine-grained root-cause labels or the injection time);
    the telemetry frames, the call graph, the system name and the ingestion report stay.

    Args:
        case: A :class:`~graphad.datasets.base.FaultCase`.
        onset_ns: The onset to hand over (``None``: the case's own ``onset_ns``).
        hide_id: Replace ``case_id`` by an opaque, stable digest of it (case ids such
            as ``"2022-08-22T03:53:54"`` carry the injection time; used when the onset
            is to be estimated).

    Returns:
        A new ``FaultCase`` (frames are shared, not copied; rankers must not modify them).

    Example:
        >>> from graphad.datasets.base import FaultCase
        >>> view = blind_case(FaultCase("c1", "shop", 10, "cart", "cpu", meta={"x": 1}))
        >>> view.root_cause, view.fault_type, view.meta, view.onset_ns
        ('', '', {}, 10)
        >>> blind_case(FaultCase("2022-08-22T03:53:54", "shop", 10, "cart", "cpu"),
        ...            hide_id=True).case_id
        'case-666d384d2b15'
    """
    onset = case.onset_ns if onset_ns is None else onset_ns
    case_id = case.case_id
    if hide_id:
        case_id = "case-" + hashlib.sha256(str(case_id).encode()).hexdigest()[:12]
    return dataclasses.replace(
        case,
        root_cause="",
        root_causes=[],
        fault_type="",
        root_cause_entity=None,
        meta={},
        onset_ns=onset,
        case_id=case_id,
    )


#: The time-stamped frames of a fault case and their time column, as :func:`crop_case` cuts.
_TIMED_FRAMES = (
    ("spans", "start_ns"),
    ("metrics", "ts_ns"),
    ("logs", "ts_ns"),
    ("edge_metrics", "ts_ns"),
)


def crop_case(case: Any, start_ns: int | None = None, end_ns: int | None = None) -> Any:
    """A copy of a fault case with its telemetry cut to ``[start_ns, end_ns)``.

    Use it to rank on the same window as the benchmark (``Nezha.cases`` keeps 10 min
    before and 5 min after the onset) when a case was read with more history, e.g. for
    fitting a detector.

    Args:
        case: A :class:`~graphad.datasets.base.FaultCase`.
        start_ns: First time kept (``None``: no lower cut).
        end_ns: First time dropped (``None``: no upper cut).

    Returns:
        A new ``FaultCase`` with the spans (by ``start_ns``), metrics, logs and edge
        metrics (by ``ts_ns``) in the window; everything else is shared. A case without
        one of these frames (e.g. another record type with no ``edge_metrics``) keeps
        what it has.

    Example:
        >>> import pandas as pd
        >>> from graphad.datasets.base import FaultCase
        >>> m = pd.DataFrame({"ts_ns": [0, 5, 10], "node": "a", "metric": "cpu",
        ...                   "value": [1.0, 2.0, 3.0]})
        >>> case = FaultCase("c1", "shop", 5, "a", "cpu", metrics=m)
        >>> crop_case(case, 5).metrics["ts_ns"].tolist()
        [5, 10]
    """
    frames = {}
    for name, column in _TIMED_FRAMES:
        if not hasattr(case, name):
            continue
        frame = getattr(case, name)
        if frame is not None and len(frame) and column in frame.columns:
            times = frame[column].to_numpy()
            keep = np.ones(len(frame), dtype=bool)
            if start_ns is not None:
                keep &= times >= start_ns
            if end_ns is not None:
                keep &= times < end_ns
            frame = frame[keep].reset_index(drop=True)
        frames[name] = frame
    return dataclasses.replace(case, **frames)


def _first_time(case: Any) -> int | None:
    times = []
    for name, column in (("spans", "start_ns"), ("metrics", "ts_ns"), ("logs", "ts_ns")):
        frame = getattr(case, name)
        if frame is not None and len(frame) and column in frame.columns:
            times.append(int(frame[column].min()))
    return min(times) if times else None


def _default_onset_estimator() -> Callable[[Any], Any]:
    from graphad import rca

    estimator = getattr(rca, "estimate_onset", None)
    if estimator is None:
        raise GraphadInputError(
            "no onset estimator: graphad.rca.estimate_onset is missing",
            field="onset_estimator",
            expected="a callable case -> ns",
        )
    return estimator


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

    Each ranker gets :func:`blind_case` views only. With ``onset="estimated"`` the onset
    is first estimated from a view whose ``onset_ns`` is ``None`` (so an estimator that
    reads it fails instead of cheating); the estimate is then handed to every ranker and
    the estimation time is added to each ranker's seconds. ``hide_window_start`` crops a
    seeded random amount of up to that many ns from the start of the estimator's view,
    so a case window placed at a fixed offset from the onset does not reveal it.

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
            before the cases (e.g. a fault-free period); the seconds are reported apart.
            A mapping ``{system: data}`` fits one copy of each ranker per system, and
            each case is ranked by its system's copy (a system without an entry by the
            unfitted ranker).
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
    pairs = [(label, _make_ranker(spec)) for label, spec in _named(rankers)]
    rule = None
    if node_rule is not None:
        from graphad.graph.rules import resolve_node_rule

        rule = resolve_node_rule(node_rule)
    estimator = None
    if onset == "estimated":
        estimator = onset_estimator or _default_onset_estimator()
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
    for case in _progress(_iter_cases(cases, errors), verbose, "rca cases"):
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
        hidden = blind_case(case, hide_id=True)
        if hide_window_start > 0:
            first = _first_time(case)
            if first is not None:
                hidden = crop_case(hidden, first + int(rng.integers(0, hide_window_start)))
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
        view = blind_case(case, onset_ns, hide_id=estimator is not None)
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
        causes = list(getattr(case, "root_causes", None) or [case.root_cause])
        cause_ranks = [ranking.index(c) + 1 if c in ranking else None for c in causes]
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


# -- multivariate time series --------------------------------------------------------
def _entities(root: Any, entities: Iterable[str] | None) -> Iterable[Any]:
    if isinstance(root, (str, Path)):
        from graphad.datasets.mts import MultivariateCSV

        root = MultivariateCSV(root)
    if callable(getattr(root, "load", None)) and hasattr(root, "entities"):
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
        size = detector.get_params().get("window_size")
    return int(size) if size else 1


def _to_numpy(values: Any) -> np.ndarray:
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
    scores = _to_numpy(detector.score_windows(series)).ravel()
    score_seconds = time.perf_counter() - began
    if scores.shape[0] != len(test):
        raise GraphadInputError(
            "the detector did not score every test step",
            source=name,
            field="score_windows",
            expected=f"{len(test)} scores",
            found=scores.shape[0],
        )
    node_scores = _to_numpy(detector.decision_function(series))
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
    from graphad.detectors.threshold import fit_threshold

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
        (label, _detector_factory(spec, params.get(label))) for label, spec in _named(detectors)
    ]
    records = []
    for entity in _progress(_entities(root, entities), verbose, "entities"):
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


# -- log sessions --------------------------------------------------------------------
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
        from graphad.datasets.logsets import load_hdfs_sessions

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
        from graphad.datasets.logsets import load_hdfs_labelled

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
        (label, _detector_factory(spec, params.get(label))) for label, spec in _named(detectors)
    ]
    train_input, test_input = features(train, test) if features is not None else (train, test)
    records = []
    for label, factory in _progress(methods, verbose, "detectors"):
        detector = factory()
        began = time.perf_counter()
        detector.fit(train_input)
        fit_seconds = time.perf_counter() - began
        began = time.perf_counter()
        scores = _to_numpy(detector.score_windows(test_input)).ravel()
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
