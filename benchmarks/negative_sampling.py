"""Negative-sampling contrastive classifier vs its CNN / LSTM baselines on ASD (few labels).

The method of seed 3 is supervised, and ASD's only labels are those of the test split. So,
per server, the labelled test series is split in time:

* **first half** (steps 0..2159): windows + labels to train the supervised models;
* **second half** (steps 2160..4319): evaluation.

A window (``--window`` steps, 4 as in the paper) is attributed to its last step and takes
that step's label. Every model uses the same negative sampling (normal windows sampled to
the number of abnormal ones, as the paper does for all three); the contrastive model adds
the Algorithm-1 augmentation and SimCLR pretraining. Predictions use the classifiers'
own decision (probability > 0.5). Reported as in the paper: TPR, FPR, precision, F1,
accuracy (plus threshold-free AUC-PR of the probability). A server whose first (or second)
half holds no labelled anomaly cannot train (or evaluate) a classifier: it is listed, not
scored, for every model.

For context, an unsupervised row: ``KNNDetector`` fitted on the normal *train* split
(threshold from its training scores) and scored on the same second halves.

Run: ``python benchmarks/negative_sampling.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from graphad.datasets import MultivariateCSV
from graphad.detectors import (
    CNNClassifier,
    KNNDetector,
    LSTMClassifier,
    NegativeSamplingContrastive,
)
from graphad.eval import auc_pr

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "asd"


def rates(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    tpr = tp / (tp + fn) if tp + fn else 0.0
    return {
        "tpr": tpr,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "precision": precision,
        "f1": 2 * precision * tpr / (precision + tpr) if tp else 0.0,
        "accuracy": (tp + tn) / len(y),
    }


def models(window: int, seed: int, epochs: int) -> dict:
    common = {"window_size": window, "random_state": seed, "epochs": epochs}
    return {
        "NegativeSamplingContrastive": lambda: NegativeSamplingContrastive(**common),
        "CNNClassifier": lambda: CNNClassifier(**common),
        "LSTMClassifier": lambda: LSTMClassifier(**common),
    }


def run(root: Path, window: int, seed: int, epochs: int):
    torch.set_num_threads(1)
    dataset = MultivariateCSV(root)
    results: dict[str, list[dict]] = {}
    skipped = []
    for name in dataset.entities:
        entity = dataset.load(name)
        test = entity.test.to_numpy(dtype=np.float32)
        labels = np.asarray(entity.test_labels).astype(np.int64)
        half = len(test) // 2
        first, second = test[:half], test[half:]
        y_first = labels[window - 1 : half]  # window label = label of its last step
        y_second = labels[half + window - 1 :]
        if y_first.sum() == 0 or y_second.sum() == 0:
            skipped.append(
                f"{name} ({int(y_first.sum())} abnormal windows in the first "
                f"half, {int(y_second.sum())} in the second)"
            )
            continue
        knn = KNNDetector(window_size=window).fit(entity.train.to_numpy(dtype=np.float32))
        scores = knn.score_windows(second).numpy()
        row = rates(y_second, (scores > knn.threshold_).astype(int))
        row.update(auc_pr=auc_pr(y_second, scores), fit_s=0.0, server=name)
        results.setdefault("KNNDetector (unsupervised, train split)", []).append(row)
        for model_name, make in models(window, seed, epochs).items():
            start = time.perf_counter()
            model = make().fit(first, y_first)
            fit_s = time.perf_counter() - start
            proba = model.score_windows(second).numpy()
            row = rates(y_second, model.predict(second).numpy())
            row.update(auc_pr=auc_pr(y_second, proba), fit_s=fit_s, server=name)
            results.setdefault(model_name, []).append(row)
    return results, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results, skipped = run(args.root, args.window, args.seed, args.epochs)
    print(
        f"ASD, supervised on the first half of each test split, evaluated on the second "
        f"half; window {args.window} steps"
    )
    if skipped:
        print(
            "servers without labelled anomalies in a half (classifiers not scored): "
            + "; ".join(skipped)
        )
    print("| model | servers | TPR | FPR | precision | F1 | accuracy | AUC-PR | fit s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model_name, rows in results.items():
        mean = {
            k: float(np.mean([r[k] for r in rows]))
            for k in ("tpr", "fpr", "precision", "f1", "accuracy", "auc_pr", "fit_s")
        }
        print(
            f"| {model_name} | {len(rows)} | {mean['tpr']:.3f} | {mean['fpr']:.3f} | "
            f"{mean['precision']:.3f} | {mean['f1']:.3f} | {mean['accuracy']:.3f} | "
            f"{mean['auc_pr']:.3f} | {mean['fit_s']:.1f} |"
        )
    print()
    print("per server F1 (TPR / FPR):")
    servers = [r["server"] for r in results["NegativeSamplingContrastive"]]
    for server in servers:
        cells = []
        for model_name, rows in results.items():
            r = next((r for r in rows if r["server"] == server), None)
            if r is not None:
                cells.append(
                    f"{model_name.split(' ')[0]} {r['f1']:.3f} ({r['tpr']:.3f} / {r['fpr']:.3f})"
                )
        print(f"  {server}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
