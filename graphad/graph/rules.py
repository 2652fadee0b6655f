"""Rules that map raw entity names (pods, containers, hosts) to graph nodes."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from graphad.utils import resolve

__all__ = ["k8s_service", "identity", "resolve_node_rule", "NodeRule"]

NodeRule = Callable[[pd.Series], pd.Series]

# Deployment pods: <name>-<replicaset hash (5-10 chars)>-<pod hash (5 chars)>;
# StatefulSet pods: <name>-<ordinal>.
_DEPLOYMENT_POD = re.compile(r"^(?P<svc>.+?)-[a-z0-9]{5,10}-[a-z0-9]{5}$")
_STATEFUL_POD = re.compile(r"^(?P<svc>.+?)-\d+$")


def _k8s_one(name: str) -> str:
    match = _DEPLOYMENT_POD.match(name) or _STATEFUL_POD.match(name)
    return match.group("svc") if match else name


def k8s_service(names: pd.Series | list[str] | np.ndarray) -> pd.Series:
    """Map Kubernetes pod names to their service (deployment / stateful set) names.

    Names that do not look like pod names are kept as they are.

    Args:
        names: Pod names, shape ``[n]``.

    Returns:
        Service names, ``pd.Series`` of shape ``[n]``.

    Example:
        >>> k8s_service(["frontend-579b9bff58-t2dbm", "ts-order-service-7d9f8b6c5d-abcde",
        ...              "redis-cart-0", "checkout"]).tolist()
        ['frontend', 'ts-order-service', 'redis-cart', 'checkout']

    """
    series = pd.Series(names, dtype=object)
    uniques = pd.unique(series)
    mapping = {name: _k8s_one(str(name)) for name in uniques}
    return series.map(mapping)


def identity(names: pd.Series | list[str] | np.ndarray) -> pd.Series:
    """Keep names as they are (pod-level or host-level nodes)."""
    return pd.Series(names, dtype=object)


_RULES = {
    "service": k8s_service,
    "k8s_service": k8s_service,
    "pod": identity,
    "identity": identity,
    "none": identity,
}


def resolve_node_rule(rule: str | NodeRule | None) -> NodeRule:
    """Resolve ``"service"``, ``"pod"``/``"identity"``, ``None`` or a callable.

    Example:
        >>> resolve_node_rule("service")(["cart-7d9f8b6c5d-abcde"]).tolist()
        ['cart']

    """
    if rule is None:
        return identity
    return resolve(rule, _RULES, "node_rule")  # type: ignore[return-value]
