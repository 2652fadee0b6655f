"""Model and graph files: atomic writes, and reads that check every field before use.

A file is a ``torch.save`` of ``{"header": <JSON text>, <tensors key>: {...}}``: plain
data and tensors only, read back with ``torch.load(weights_only=True)``, so that no code
from a file is ever run. Errors never repeat torch's advice to load with
``weights_only=False``: a file that needs it is not a graphad file.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from graphad.exceptions import GraphadInputError

__all__ = ["atomic_torch_save", "read_blob", "require"]


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` that never leaves a partial file at ``path``.

    The object is written to a temporary file in the same folder and moved over ``path``
    with :func:`os.replace` (atomic on POSIX and Windows): readers, and concurrent
    writers, see either the old file or a complete new one.

    Args:
        obj: Tensors and plain data.
        path: The output file.

    Raises:
        GraphadInputError: The file cannot be written (the message names the path).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then moved
            dir=folder, prefix=f".{target.name}.", suffix=".tmp", delete=False
        )
    except OSError as error:
        raise GraphadInputError(
            "cannot write file",
            source=str(target),
            expected="a writable folder",
            found=f"{type(error).__name__}: {error.strerror or error}",
        ) from None
    try:
        with handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except (OSError, RuntimeError) as error:
        Path(handle.name).unlink(missing_ok=True)
        raise GraphadInputError(
            "cannot write file",
            source=str(target),
            expected="a writable file path",
            found=f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
        ) from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def read_blob(path: str | os.PathLike, what: str, payload: str) -> tuple[dict, dict]:
    """Read a graphad file and return its checked ``(header, payload)``.

    Args:
        path: The file.
        what: What the file should be, for messages (``"graphad dynamic graph"``).
        payload: The key of the tensors' dict (``"tensors"``, ``"state"``).

    Returns:
        The header (a JSON object) and the payload (a dict of str keys).

    Raises:
        GraphadInputError: The file is missing, not a ``torch.save`` file, holds objects
            other than tensors and plain data, or lacks a JSON header or the payload.
    """
    source = str(path)
    if not Path(path).is_file():
        raise GraphadInputError(
            f"not a saved {what}",
            source=source,
            expected="an existing file",
            found="no such file" if not Path(path).exists() else "a directory",
        )
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise GraphadInputError(
            f"not a saved {what}",
            source=source,
            expected="tensors and plain data only (graphad never runs code from a file)",
            found="other pickled objects",
        ) from None
    except Exception as error:  # noqa: BLE001 - torch raises many kinds on a bad file
        text = str(error).splitlines()[0] if str(error) else ""
        if "weights_only" in text:
            text = "refused by the safe loader"
        raise GraphadInputError(
            f"not a saved {what}",
            source=source,
            expected="a file written by graphad's save()",
            found=f"{type(error).__name__}: {text[:160]}",
        ) from None
    if not isinstance(blob, dict) or not isinstance(blob.get("header"), str):
        raise GraphadInputError(
            f"not a saved {what}",
            source=source,
            field="header",
            expected="a dict with a JSON 'header'",
            found=type(blob).__name__ if not isinstance(blob, dict) else "no JSON header",
        )
    try:
        header = json.loads(blob["header"])
    except (json.JSONDecodeError, RecursionError, ValueError) as error:
        raise GraphadInputError(
            f"not a saved {what}",
            source=source,
            field="header",
            expected="JSON text",
            found=f"{type(error).__name__}: {str(error)[:120]}",
        ) from None
    if not isinstance(header, dict):
        raise GraphadInputError(
            f"not a saved {what}",
            source=source,
            field="header",
            expected="a JSON object",
            found=type(header).__name__,
        )
    data = blob.get(payload)
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise GraphadInputError(
            f"not a saved {what}",
            source=source,
            field=payload,
            expected="a dict of named tensors",
            found=type(data).__name__,
        )
    return header, data


def require(
    mapping: dict,
    key: str,
    check: Callable[[Any], bool],
    expected: str,
    source: str,
    *,
    optional: bool = False,
) -> Any:
    """``mapping[key]`` after ``check``; a missing or ill-typed field is a clear error.

    Args:
        mapping: The header (or part of it).
        key: The field.
        check: Whether a value is acceptable.
        expected: What an acceptable value is, for the message.
        source: The file, for the message.
        optional: A missing field (or ``None``) is returned as ``None``.

    Returns:
        The value.

    Raises:
        GraphadInputError: The field is missing or fails ``check``.

    Example:
        >>> require({"a": 1}, "a", lambda v: isinstance(v, int), "an integer", "f.pt")
        1
    """
    if key not in mapping or mapping[key] is None:
        if optional:
            return None
        raise GraphadInputError(
            "field missing from the saved file",
            source=source,
            field=key,
            expected=expected,
            found="nothing",
        )
    value = mapping[key]
    if not check(value):
        raise GraphadInputError(
            "malformed field in the saved file",
            source=source,
            field=key,
            expected=expected,
            found=f"{type(value).__name__} {str(value)[:60]}",
        )
    return value


def is_str_list(value: Any) -> bool:
    """Whether ``value`` is a list of strings."""
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
