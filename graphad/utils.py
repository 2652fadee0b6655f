"""Small shared helpers: devices, seeding, optional imports."""

from __future__ import annotations

import importlib
import random
from types import ModuleType

import numpy as np
import torch

from graphad.exceptions import GraphadInputError

__all__ = ["resolve_device", "seed_everything", "import_optional", "resolve"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to torch.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')

    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def seed_everything(random_state: int | None) -> torch.Generator:
    """Seed Python, NumPy and torch from ``random_state`` and return a torch generator.

    ``None`` draws a fresh seed (results then differ from run to run).
    """
    seed = int(random_state) if random_state is not None else random.randrange(2**31)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def import_optional(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or fail with the ``pip install`` line that fixes it.

    Example:
        >>> import_optional("json", "none").__name__
        'json'

    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"'{module}' is needed for this feature: pip install 'graphad[{extra}]'"
        ) from error


def resolve(name: str | object, choices: dict[str, object], what: str = "name") -> object:
    """Resolve a string among ``choices`` (case-insensitive); non-strings pass through.

    Example:
        >>> resolve("Mean", {"mean": 1, "max": 2})
        1
        >>> try:
        ...     resolve("min", {"mean": 1})
        ... except ValueError as error:
        ...     print(error)
        field 'name': Could not resolve 'min' among choices ['mean']

    """
    if not isinstance(name, str):
        return name
    key = name.lower().replace("-", "_")
    lowered = {k.lower(): v for k, v in choices.items()}
    if key not in lowered:
        raise GraphadInputError(
            f"Could not resolve '{name}' among choices {sorted(choices)}", field=what
        )
    return lowered[key]
