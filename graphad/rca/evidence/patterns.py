"""Evidence from per-span event patterns compared with a fault-free reference.

Code-level faults (a service that returns a wrong value or throws) change neither CPU
nor latency much; they change *what happens inside a request*. Here every span is
described by the set of events it holds: the calls it makes (``C:<callee node>|<op>``)
and the log templates written under it (``L:<template id>``, templates from
:class:`~graphad.rca.evidence.templates.ReferenceTemplates`, ``L:-1`` for a line that
matches no reference template). From the fault-free reference, each span kind
``<node>|<operation>`` learns

* the events it has been seen with (anything else is a *new* event: a new log line, a
  call it never made; a call to a span kind absent from the reference is left out, as
  it tells only that the reference did not see that request type), and
* the events it almost always holds (share >= ``expected_share``; one of them missing
  is a *missing* event: a callee that returns early no longer writes its usual lines or
  calls on).

A span with a new or a missing event is deviant. A fault also makes the callers of the
faulty service deviate (they receive an error or a wrong value), so a deviant span is
attributed only when none of its descendants is deviant: the deviation is blamed where
it starts, the deepest point of the request. Per node, the number ``k`` of such spans
after the onset is compared with the number ``e`` expected from the reference's own
rate of them (each span kind's in-sample rate, floored at ``floor``):
``z = (k - e) / sqrt(e + 1)``.

This is the idea of Nezha's event-pattern mining (Yu et al., FSE 2023) reduced to span
event sets; the statistic and attribution are graphad's own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.exceptions import NotFittedError
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.ingest.schema import require_columns
from graphad.rca.evidence.templates import ReferenceTemplates

__all__ = ["EventPatternEvidence", "span_events"]

_MAX_DEPTH = 64


def span_events(
    spans: pd.DataFrame,
    log_lines: pd.DataFrame | None = None,
    templates: ReferenceTemplates | None = None,
    node_rule: str | NodeRule | None = "service",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Span kinds and the events each span holds.

    Args:
        spans: Canonical spans (``span_id, parent_id, service, operation`` used).
        log_lines: Optional log lines linked to spans: ``span_id`` and ``message``
            (mapped with ``templates``; preferred when both are there) or a ``template``
            column of ids.
        templates: Fitted reference templates for ``message`` columns.
        node_rule: Entity -> node rule (default: Kubernetes service names).

    Returns:
        ``(span_table, events)``: ``span_table`` has ``span_id, parent_id, node, key``
        (one row per span, ``key = node|operation``); ``events`` has ``span_id, key,
        event`` (distinct events per span).
    """
    require_columns(spans, ("span_id", "parent_id", "service", "operation"), "spans")
    rule = resolve_node_rule(node_rule)
    node = np.asarray(rule(spans["service"].astype(str).to_numpy()), dtype=object)
    table = pd.DataFrame(
        {
            "span_id": spans["span_id"].astype(str).to_numpy(),
            "parent_id": spans["parent_id"].astype(str).to_numpy(),
            "node": node,
        }
    )
    table["key"] = table["node"] + "|" + spans["operation"].astype(str).to_numpy()
    parts = [pd.DataFrame({"span_id": table["parent_id"], "event": "C:" + table["key"]})]
    if log_lines is not None and len(log_lines):
        require_columns(log_lines, ("span_id",), "log_lines")
        if "message" in log_lines.columns and templates is not None:
            ids = templates.transform(log_lines["message"].astype(str))
        elif "template" in log_lines.columns:
            ids = log_lines["template"].to_numpy()
        else:
            require_columns(log_lines, ("message",), "log_lines")
            raise NotFittedError("log_lines with messages need fitted ReferenceTemplates")
        parts.append(
            pd.DataFrame(
                {
                    "span_id": log_lines["span_id"].astype(str).to_numpy(),
                    "event": "L:" + pd.Series(ids).astype(str).to_numpy(),
                }
            )
        )
    events = pd.concat(parts, ignore_index=True).drop_duplicates()
    key_of = pd.Series(table["key"].to_numpy(), index=table["span_id"].to_numpy())
    key_of = key_of[~key_of.index.duplicated()]
    events = events[events["span_id"].isin(key_of.index)]
    events = events.assign(key=key_of.reindex(events["span_id"]).to_numpy())
    return table, events.reset_index(drop=True)


def _deepest(table: pd.DataFrame, deviant: np.ndarray) -> np.ndarray:
    """Deviant spans none of whose descendants is deviant, shape ``[n]`` bool."""
    parent = dict(zip(table["span_id"], table["parent_id"], strict=True))
    covered: set[str] = set()
    for span in table["span_id"].to_numpy()[deviant]:
        up, hops = parent.get(span), 0
        while up is not None and up not in covered and hops < _MAX_DEPTH:
            covered.add(up)
            up, hops = parent.get(up), hops + 1
    return deviant & ~table["span_id"].isin(covered).to_numpy()


class EventPatternEvidence:
    """Per-node evidence of deviant span event patterns (see the module documentation).

    Args:
        expected_share: Share of a span kind's reference spans an event must appear in
            to be *expected* (its absence then counts).
        min_support: Fewest reference spans of a kind before its expected events count.
        floor: Lowest per-span chance of a deviant span (the reference is finite).
        node_rule: Entity -> node rule.
        template_options: Options of :class:`ReferenceTemplates`.

    Example:
        >>> ref = pd.DataFrame({"trace_id": ["t"] * 2, "span_id": ["a", "b"],
        ...     "parent_id": ["", "a"], "service": ["web", "db"],
        ...     "operation": ["GET", "query"]})
        >>> ev = EventPatternEvidence().fit(pd.concat([ref] * 3, ignore_index=True))
        >>> now = ref.iloc[:1]  # web no longer calls db
        >>> ev.score(now)["z"].idxmax()
        'web'
    """

    def __init__(
        self,
        expected_share: float = 0.9,
        min_support: int = 3,
        floor: float = 0.01,
        node_rule: str | NodeRule | None = "service",
        **template_options,
    ) -> None:
        self.expected_share = expected_share
        self.min_support = min_support
        self.floor = floor
        self.node_rule = node_rule
        self.template_options = template_options
        self.templates: ReferenceTemplates | None = None
        self._fitted = False

    def fit(
        self, spans: pd.DataFrame, log_lines: pd.DataFrame | None = None
    ) -> EventPatternEvidence:
        """Learn the event patterns of a fault-free period.

        Args:
            spans: Canonical spans of the reference period.
            log_lines: Optional span-linked log lines (``span_id, message``).

        Returns:
            ``self``.
        """
        if log_lines is not None and len(log_lines) and "message" in log_lines.columns:
            self.templates = ReferenceTemplates(**self.template_options).fit(
                log_lines["message"].astype(str)
            )
        table, events = span_events(spans, log_lines, self.templates, self.node_rule)
        count = table.groupby("key").size()
        pairs = events.groupby(["key", "event"]).size()
        self._count = count.to_dict()
        self._seen = set(pairs.index)
        share = pairs / count.reindex(pairs.index.get_level_values(0)).to_numpy()
        self._expected: dict[str, set[str]] = {}
        for (key, event), value in share.items():
            if value >= self.expected_share and self._count[key] >= self.min_support:
                self._expected.setdefault(key, set()).add(event)
        self._expected_pairs = pd.DataFrame(
            [(k, e) for k, events in self._expected.items() for e in sorted(events)],
            columns=["key", "event"],
        )
        self._fitted = True
        flagged = self._flag(table, events)
        rate = pd.Series(flagged, index=table.index).groupby(table["key"]).mean()
        self._rate = rate.clip(lower=self.floor).to_dict()
        return self

    @property
    def n_templates(self) -> int:
        """Number of reference log templates (0 without logs)."""
        return 0 if self.templates is None else self.templates.n_templates

    def _flag(self, table: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
        """Deepest deviant spans of ``table`` (rows of unknown kinds: ``False``)."""
        known = table["key"].isin(self._count.keys()).to_numpy()
        events = events[events["key"].isin(self._count.keys())]
        pairs = zip(events["key"].to_numpy(), events["event"].to_numpy(), strict=True)
        new = np.fromiter((p not in self._seen for p in pairs), bool, len(events))
        calls = events["event"].str.startswith("C:").to_numpy()
        callee_known = events["event"].str[2:].isin(self._count.keys()).to_numpy()
        new &= ~(calls & ~callee_known)
        new_spans = set(events["span_id"].to_numpy()[new])
        wanted = table[["span_id", "key"]].merge(self._expected_pairs, on="key")
        held = wanted.merge(
            events[["span_id", "event"]], on=["span_id", "event"], how="left", indicator=True
        )
        lacking = set(held.loc[held["_merge"] == "left_only", "span_id"])
        missing = table["span_id"].isin(lacking).to_numpy()
        deviant = known & (table["span_id"].isin(new_spans).to_numpy() | missing)
        return _deepest(table, deviant)

    def score(self, spans: pd.DataFrame, log_lines: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-node deviation of the spans (e.g. those after the onset).

        Args:
            spans: Canonical spans to score.
            log_lines: Optional span-linked log lines (``span_id, message``); left
                out when the reference had no log lines.

        Returns:
            Frame indexed by node, columns ``deviant`` (deepest deviant spans),
            ``expected`` (their number expected from the reference) and ``z``, sorted
            by ``z`` descending; nodes without a span kind known to the reference are
            left out.

        Raises:
            NotFittedError: Called before :meth:`fit`.
        """
        if not self._fitted:
            raise NotFittedError("EventPatternEvidence.score called before fit(spans)")
        if self.templates is None:
            log_lines = None  # no reference logs: every line would look new
        table, events = span_events(spans, log_lines, self.templates, self.node_rule)
        table = table[table["key"].isin(self._count.keys())].reset_index(drop=True)
        flagged = self._flag(table, events)
        expected = table["key"].map(self._rate).to_numpy(dtype=float)
        out = pd.DataFrame({"node": table["node"], "deviant": flagged, "expected": expected})
        out = out.groupby("node").agg(deviant=("deviant", "sum"), expected=("expected", "sum"))
        out["deviant"] = out["deviant"].astype(float)
        out["z"] = (out["deviant"] - out["expected"]) / np.sqrt(out["expected"] + 1.0)
        return out.sort_values("z", ascending=False)
