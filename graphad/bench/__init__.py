"""The benchmark runners: rankers over fault cases, detectors over datasets.

They sit above every other stage (datasets, detectors, rca, eval's metrics). Three runners
share one result type, :class:`BenchResult` (records + summary tables, ``to_frame()``,
``to_dict()`` / JSON, ``format()``):

* :func:`run_rca_benchmark`: every fault case through every root-cause ranker; AC@1,
  AC@3, AC@5, Avg@5 and MRR overall, per system and per fault type, seconds per case.
* :func:`run_mts_benchmark`: detectors on a multivariate-CSV folder (the ASD layout);
  AUC-ROC, AUC-PR, VUS-ROC/PR, best F1, F1 at the training threshold, ADR,
  HitRate@100%/150%, fit and score seconds, per entity and the mean.
* :func:`run_logs_benchmark`: session detectors (e.g. DeepLog) on HDFS sessions.

Methods are named through the registries (:data:`graphad.detectors.DETECTORS`,
:data:`graphad.rca.RANKERS`) and cloned with :func:`sklearn.base.clone`.
"""

from graphad.bench.logs import run_logs_benchmark
from graphad.bench.mts import run_mts_benchmark
from graphad.bench.rca import rca_summary, run_rca_benchmark
from graphad.bench.result import BenchResult, format_table

__all__ = [
    "BenchResult",
    "format_table",
    "rca_summary",
    "run_rca_benchmark",
    "run_mts_benchmark",
    "run_logs_benchmark",
]
