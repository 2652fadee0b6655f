"""A user-defined detector plugged into the benchmark harness.

    python examples/custom_detector.py --root ../shared/data/asd --entities omi-1,omi-2

A detector is a :class:`graphad.detectors.BaseDetector` subclass with ``_fit`` and
``_score_nodes``; :func:`graphad.detectors.register_detector` makes it available by name
to ``graphad fit``, ``graphad bench`` and :func:`graphad.bench.run_mts_benchmark`,
which fits it per entity, scores the test period and prints the same table as for the
built-in detectors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from graphad.bench import format_table, run_mts_benchmark
from graphad.detectors import BaseDetector, WindowBatch, register_detector
from graphad.viz import plot_window_scores


@register_detector
class MedianShift(BaseDetector):
    """Score = |median of the window's last steps - training median| / training MAD.

    Args:
        window_size: Steps per window for plain series.
        recent: Steps at the end of the window whose median is compared.
        contamination: Share of training windows above the threshold.
    """

    def __init__(self, window_size: int = 8, recent: int = 3, contamination: float = 0.01) -> None:
        self.window_size = window_size
        self.recent = recent
        self.contamination = contamination

    def _fit(self, batch: WindowBatch) -> None:
        values = batch.x[..., -1, :].reshape(-1, batch.num_nodes, batch.x.shape[-1])
        self.median_ = values.median(dim=0).values  # [N, F]
        mad = (values - self.median_).abs().median(dim=0).values
        self.mad_ = mad.clamp_min(1e-6)

    def _score_nodes(self, batch: WindowBatch) -> torch.Tensor:
        recent = batch.x[:, :, -self.recent :, :].median(dim=2).values  # [W, N, F]
        return ((recent - self.median_) / self.mad_).abs().amax(dim=-1)

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {"median_": self.median_, "mad_": self.mad_}

    def _set_state(self, state: dict[str, torch.Tensor]) -> None:
        self.median_, self.mad_ = state["median_"], state["mad_"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data/asd")
    parser.add_argument("--entities", default="omi-1,omi-2")
    parser.add_argument("--out", default="figures/custom_detector")
    parser.add_argument("--small", action="store_true", help="quick run (for the tests)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    entities = args.entities.split(",")[:1] if args.small else args.entities.split(",")

    result = run_mts_benchmark(args.root, ["MedianShift", "RobustZScore"], entities=entities)
    print(format_table(result.tables["mean"]))

    from graphad.datasets import MultivariateCSV

    entity = MultivariateCSV(args.root).load(entities[0])
    detector = MedianShift().fit(entity.train)
    scores = detector.score_windows(entity.test).numpy()
    steps = np.arange(detector.window_size - 1, len(entity.test))
    fig = plot_window_scores(
        scores,
        times=steps,
        labels=entity.test_labels[detector.window_size - 1 :],
        threshold=detector.threshold_,
        log_scale=True,
        title=f"{entity.name}: MedianShift",
    )
    fig.savefig(out / "timeline.png")
    print("wrote", out / "timeline.png")


if __name__ == "__main__":
    main()
