"""Test-session settings shared by the unit tests and the doctests of the package."""

import matplotlib
import torch

matplotlib.use("Agg")
# Small models on 2-core machines run fastest with one intra-op thread.
torch.set_num_threads(1)
