"""A stable, bounded log-template set mined once on a fault-free reference period.

Mining templates afresh in every fault case gives each case its own template ids (and,
on verbose systems, thousands of them), so no statistic can compare a case with the
reference. :class:`ReferenceTemplates` mines Drain3 templates on the reference messages
only, then *matches* later messages against that fixed set without growing it: a
message that matches no reference template gets the id ``-1`` ("new"), which is itself
evidence (an error line never seen in normal operation).

Masking replaces ids, UUIDs, hex strings, IPs, numbers, dates and clock times before
mining (:data:`REFERENCE_MASKS`). Numbers glued to a name by ``#`` (``Impl#532``, the
source line a logging framework prints) are kept: they name *where* in the code a line
was written, which is what tells one event from another.

Drain joins a message to a template only when both have the same number of tokens, so a
line whose payload varies in length (a list of items) would fall out of its template. A
message that Drain does not match falls back to the reference template whose messages
share its first ``prefix_tokens`` masked tokens (the fixed head of a log statement).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError, NotFittedError
from graphad.ingest.logs import DEFAULT_MASKS, make_template_miner

__all__ = ["REFERENCE_MASKS", "ReferenceTemplates", "NEW_TEMPLATE"]

#: Template id of a message that matches no reference template.
NEW_TEMPLATE = -1

_NUM_LOOKBEHIND = "(?<![A-Za-z0-9.])[-+]?"


def _keep_code_locations(masks: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The masks with ``#`` added to the number mask's look-behind (``Impl#532`` kept)."""
    return tuple(
        (pattern.replace(_NUM_LOOKBEHIND, "(?<![A-Za-z0-9.#])[-+]?"), name)
        for pattern, name in masks
    )


#: Masks applied before mining: ISO dates with time, clock times, then the default id,
#: UUID, IP, hex and number masks (numbers after ``#`` kept as code locations).
REFERENCE_MASKS: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?Z?", "TS"),
    (r"(?<![\d:])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\d:])", "TIME"),
) + _keep_code_locations(DEFAULT_MASKS)


class ReferenceTemplates:
    """Drain3 templates mined on a fault-free period, then matched without growing.

    Args:
        sim_th: Drain similarity threshold for joining a cluster while fitting.
        depth: Depth of Drain's parse tree.
        prefix_tokens: Masked head tokens used to place a message Drain does not match.
        masks: ``(regex, name)`` masks (default :data:`REFERENCE_MASKS`).
        max_chars: Characters of a message kept (its head: the statement's fixed text
            comes first, long payloads such as dumped objects after it); ``None`` keeps
            every character. Masking costs time per character.

    Example:
        >>> t = ReferenceTemplates().fit(["user 17 logged in", "user 4 logged in",
        ...                               "disk full on /dev/sda1"])
        >>> t.n_templates
        2
        >>> ids = t.transform(["user 99 logged in", "NullPointerException at Foo#12"])
        >>> bool(ids[0] >= 0), int(ids[1])
        (True, -1)
    """

    def __init__(
        self,
        sim_th: float = 0.4,
        depth: int = 4,
        prefix_tokens: int = 6,
        masks: Sequence[tuple[str, str]] = REFERENCE_MASKS,
        max_chars: int | None = 256,
    ) -> None:
        if prefix_tokens < 1:
            raise GraphadInputError(
                "bad argument", field="prefix_tokens", expected=">= 1", found=prefix_tokens
            )
        self.sim_th = sim_th
        self.depth = depth
        self.prefix_tokens = prefix_tokens
        self.masks = tuple(masks)
        self.max_chars = max_chars
        # one pass of one alternation instead of one pass per mask (several times faster
        # on long lines); at a position the first mask in order that matches wins
        self._masker = re.compile("|".join(f"(?P<m{i}>{p})" for i, (p, _) in enumerate(masks)))
        self._names = {f"m{i}": f"<{name}>" for i, (_, name) in enumerate(masks)}
        self._miner = None
        self._prefix: dict[str, int] = {}

    def _mask(self, message: str) -> str:
        message = message.strip()[: self.max_chars]
        return self._masker.sub(lambda m: self._names[m.lastgroup], message)

    @property
    def n_templates(self) -> int:
        """Number of reference templates (0 before :meth:`fit`)."""
        return 0 if self._miner is None else len(self._miner.drain.clusters)

    def _head(self, masked: str) -> str:
        return " ".join(masked.split()[: self.prefix_tokens])

    def fit(self, messages: Iterable[str]) -> ReferenceTemplates:
        """Mine the template set on fault-free messages.

        Args:
            messages: The reference log messages, shape ``[n]``.

        Returns:
            ``self``.
        """
        self._miner = make_template_miner(sim_th=self.sim_th, depth=self.depth, masks=())
        unique = pd.unique(pd.Series(list(messages), dtype=object))
        masked_unique = list(dict.fromkeys(self._mask(str(m)) for m in unique))
        for masked in masked_unique:
            self._miner.drain.add_log_message(masked)
        votes: dict[str, Counter] = defaultdict(Counter)
        for masked in masked_unique:
            cluster = self._miner.drain.match(masked, "fallback")
            if cluster is not None:
                votes[self._head(masked)][cluster.cluster_id] += 1
        self._prefix = {head: v.most_common(1)[0][0] for head, v in votes.items()}
        return self

    def transform(self, messages: Iterable[str]) -> np.ndarray:
        """Reference template id of each message (:data:`NEW_TEMPLATE` if none).

        Args:
            messages: Log messages, shape ``[n]``.

        Returns:
            ``int64`` array, shape ``[n]``.

        Raises:
            NotFittedError: Called before :meth:`fit`.
        """
        if self._miner is None:
            raise NotFittedError("ReferenceTemplates.transform called before fit(messages)")
        series = pd.Series(list(messages), dtype=object)
        by_mask: dict[str, int] = {}
        ids = {}
        for message in pd.unique(series):
            masked = self._mask(str(message))
            if masked not in by_mask:
                cluster = self._miner.drain.match(masked, "fallback")
                if cluster is not None:
                    by_mask[masked] = cluster.cluster_id
                else:
                    by_mask[masked] = self._prefix.get(self._head(masked), NEW_TEMPLATE)
            ids[message] = by_mask[masked]
        return series.map(ids).to_numpy(dtype=np.int64)

    def templates(self) -> dict[int, str]:
        """Template id -> template text."""
        if self._miner is None:
            return {}
        return {c.cluster_id: c.get_template() for c in self._miner.drain.clusters}
