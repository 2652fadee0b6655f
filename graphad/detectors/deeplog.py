r"""DeepLog-style next-event model for log-event sequences (Du et al., CCS 2017).

An LSTM reads the previous ``window_size`` event ids of a session and predicts the next
one. An event is *expected* if it is among the ``top_g`` most probable predictions; a
session is anomalous as soon as one of its events is not (DeepLog's rule). With
``end_token=True`` (default) the model also predicts the end of the session, so a
session that stops early (a missing final event) is caught too.

**How this differs from the window contract.** Log sessions are variable-length event
sequences, not ``[W, N, T, F]`` windows, so :class:`DeepLog` takes *sequences*: a list
whose items are either a sequence of event keys (``["5", "22", ...]`` or ``[5, 22]``) or
one whitespace-separated string (``"5 22 11"``). Everything else is the usual contract:

* ``fit(sequences) -> self`` (normal sessions; no labels), ``random_state``, ``device``;
* ``score_sequences(sequences) -> Tensor[S]``; ``score_windows`` is the same;
* ``decision_function(sequences) -> Tensor[S, N]`` where the *nodes* are the event types
  seen in training plus ``<unknown>`` (events never seen in training) and ``<end>``: the
  worst score of the positions where that event occurred (0 where it did not), which says
  *which* event was unexpected;
* ``predict`` compares with ``threshold_``; ``save`` / ``load`` as every detector.

Scores (``scoring``):

* ``"rank"`` (default): the worst 0-based rank of an observed event among the predictions
  (0 = the most probable). ``predict`` flags a session iff one event ranks outside the top
  ``g`` (``threshold_ = g - 1``) — exactly DeepLog's rule. With ``top_g`` given, ``g`` is
  fixed in advance; with ``top_g=None`` (default) it is fitted on the *training* sessions:
  the smallest ``g`` that flags at most ``contamination`` of them (the ``1 - contamination``
  quantile of their scores; ``top_g_`` records it). DeepLog's ``g = 9`` was chosen for
  HDFS's 28 event types; with fewer types in training (14 in the shared HDFS sessions) a
  fixed ``g = 9`` lets most anomalies through, hence the fitted default.
* ``"nll"``: the largest negative log-likelihood of an observed event, a continuous score
  for threshold-free metrics; ``threshold_`` is the ``1 - contamination`` quantile (or POT)
  of the training sessions' scores.

An event never seen in training gets the worst score (rank ``num_classes``, NLL 100).
Training uses each distinct (context, next event) pair once, weighted by its count, which
is the same objective as iterating over all pairs but much faster on repetitive logs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from graphad.detectors.base import BaseDetector, check_is_fitted, register_detector
from graphad.detectors.threshold import fit_threshold
from graphad.exceptions import GraphadInputError
from graphad.utils import resolve_device, seed_everything

__all__ = ["DeepLog", "NextEventLSTM", "as_event_sequences"]

logger = logging.getLogger(__name__)

UNKNOWN = "<unknown>"
END = "<end>"
#: Negative log-likelihood given to an event never seen in training.
UNKNOWN_NLL = 100.0


def as_event_sequences(sequences: Any, source: str = "sequences") -> list[list[str]]:
    """Validate sessions and turn every event key into a string.

    Args:
        sequences: A list of sessions; each a sequence of event keys (str or int) or a
            whitespace-separated string.
        source: Name of the input, for error messages.

    Returns:
        The sessions as lists of strings.

    Raises:
        GraphadInputError: Not a non-empty list of sessions, or a session with a key
            that is neither a string nor an integer.

    Example:
        >>> as_event_sequences(["5 22 11", [5, 9]])
        [['5', '22', '11'], ['5', '9']]
    """
    if (
        isinstance(sequences, (str, bytes))
        or not isinstance(sequences, Sequence)
        or torch.is_tensor(sequences)
    ):
        raise GraphadInputError(
            "expected a list of event sequences",
            source=source,
            expected="a list of sessions (lists of event keys or strings)",
            found=type(sequences).__name__,
        )
    if len(sequences) == 0:
        raise GraphadInputError(
            "no sessions to work on", source=source, expected="at least one session", found=0
        )
    out = []
    for i, session in enumerate(sequences):
        if isinstance(session, str):
            out.append(session.split())
            continue
        if not isinstance(session, (Sequence, np.ndarray)):
            raise GraphadInputError(
                "session is not a sequence of event keys",
                source=source,
                record=i,
                expected="a list or a string",
                found=type(session).__name__,
            )
        keys = []
        for key in session:
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, (str, int, np.integer)):
                raise GraphadInputError(
                    "event key is neither a string nor an integer",
                    source=source,
                    record=i,
                    field="event",
                    expected="str or int",
                    found=repr(key),
                )
            keys.append(str(key))
        out.append(keys)
    return out


class NextEventLSTM(nn.Module):
    """Embedding -> LSTM -> linear: logits of the next event given a context.

    Args:
        num_tokens: Input vocabulary (padding, events, unknown).
        num_classes: Output classes (events, optionally end).
        embedding_dim: Event embedding size.
        hidden_channels: LSTM hidden size.
        num_layers: LSTM layers.

    Shapes:
        input: ``[B, h]`` int64 context; output: ``[B, num_classes]`` logits.
    """

    def __init__(
        self,
        num_tokens: int,
        num_classes: int,
        embedding_dim: int = 16,
        hidden_channels: int = 64,
        num_layers: int = 2,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_tokens, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden_channels, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_channels, num_classes)

    def forward(self, context: Tensor) -> Tensor:
        """Logits of the next event."""
        out, _ = self.lstm(self.embedding(context))
        return self.head(out[:, -1])


@register_detector
class DeepLog(BaseDetector):
    """Next-event LSTM over log-event sessions; takes sequences, not windows.

    Args:
        window_size: Events of context ``h`` (shorter prefixes are left-padded).
        top_g: Candidates ``g`` counted as expected (``scoring="rank"``); ``None``: fitted
            on the training sessions from ``contamination`` (see the module docstring).
        scoring: ``"rank"`` (DeepLog's rule) or ``"nll"`` (continuous).
        end_token: Also predict the end of each session.
        embedding_dim: Event embedding size.
        hidden_channels: LSTM hidden size.
        num_layers: LSTM layers.
        epochs: Training epochs over the distinct (context, next event) pairs.
        batch_size: Pairs per optimisation step.
        lr: Adam learning rate.
        contamination: Share of training sessions above ``threshold_`` (``"nll"``, or
            ``"rank"`` with ``top_g=None``).
        threshold: ``"quantile"`` or ``"pot"``, same cases.
        random_state: Seed of initialisation and shuffling.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        verbose: Progress bar over epochs.

    Shapes:
        score_sequences: ``S`` sessions -> ``[S]``; decision_function -> ``[S, N]``
        (``N`` = training event types + ``<unknown>`` (+ ``<end>``)).

    Example:
        >>> train = ["1 2 3 4"] * 20 + ["1 2 4 3"] * 20
        >>> model = DeepLog(window_size=3, top_g=2, epochs=60, lr=0.02,
        ...                 random_state=0).fit(train)
        >>> model.predict(["1 2 3 4", "1 3 2 4", "1 2 3 9"]).tolist()
        [0, 1, 1]
    """

    #: The input is a list of event sequences, not windows (see the module docstring).
    input_kind: ClassVar[str] = "sequences"
    _fitted_meta = ("events_", "top_g_")

    def __init__(
        self,
        window_size: int = 10,
        top_g: int | None = None,
        scoring: str = "rank",
        end_token: bool = True,
        embedding_dim: int = 16,
        hidden_channels: int = 64,
        num_layers: int = 2,
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 2e-3,
        contamination: float = 0.01,
        threshold: str = "quantile",
        random_state: int | None = 0,
        device: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.window_size = window_size
        self.top_g = top_g
        self.scoring = scoring
        self.end_token = end_token
        self.embedding_dim = embedding_dim
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.contamination = contamination
        self.threshold = threshold
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # -- encoding ----------------------------------------------------------------------
    @property
    def _num_classes(self) -> int:
        return len(self.events_) + int(bool(self.end_token))

    def _pairs(self, sessions: list[list[str]]) -> tuple[Tensor, Tensor]:
        """Rows ``[context (h tokens) | target class]`` and their session index.

        Input tokens: 0 padding, ``1..V`` events, ``V + 1`` unknown. Target classes:
        ``0..V-1`` events, ``V`` end, ``-1`` unknown event.
        """
        h = int(self.window_size)
        lookup = {e: i for i, e in enumerate(self.events_)}
        unknown_token = len(self.events_) + 1
        rows, owner = [], []
        for s, session in enumerate(sessions):
            classes = [lookup.get(e, -1) for e in session]
            tokens = [0] * h + [c + 1 if c >= 0 else unknown_token for c in classes]
            targets = classes + ([len(self.events_)] if self.end_token else [])
            for i, target in enumerate(targets):
                rows.append(tokens[i : i + h] + [target])
            owner.extend([s] * len(targets))
        if not rows:
            return torch.zeros(0, h + 1, dtype=torch.long), torch.zeros(0, dtype=torch.long)
        return torch.tensor(rows, dtype=torch.long), torch.tensor(owner, dtype=torch.long)

    def _build(self) -> NextEventLSTM:
        return NextEventLSTM(
            len(self.events_) + 2,
            self._num_classes,
            int(self.embedding_dim),
            int(self.hidden_channels),
            int(self.num_layers),
        )

    # -- fitting -----------------------------------------------------------------------
    def fit(self, sequences: Any, y: Any = None) -> DeepLog:
        """Learn the normal next-event distribution from normal sessions.

        Args:
            sequences: Normal sessions (see :func:`as_event_sequences`).
            y: Ignored (unsupervised).

        Returns:
            ``self``.
        """
        sessions = as_event_sequences(sequences)
        if self.scoring not in ("rank", "nll"):
            raise GraphadInputError(
                f"Could not resolve '{self.scoring}' among choices ['nll', 'rank']", field="scoring"
            )
        if int(self.window_size) < 1 or (self.top_g is not None and int(self.top_g) < 1):
            raise GraphadInputError(
                "window_size and top_g must be positive",
                field="window_size/top_g",
                expected=">= 1",
                found=(self.window_size, self.top_g),
            )
        counts: dict[str, int] = {}
        for session in sessions:
            for event in session:
                counts[event] = counts.get(event, 0) + 1
        if not counts:
            raise GraphadInputError(
                "training sessions hold no events",
                field="sequences",
                expected="at least one event",
                found=0,
            )
        self.events_ = sorted(counts, key=lambda e: (len(e), e))
        self.node_names_ = [*self.events_, UNKNOWN] + ([END] if self.end_token else [])
        self.n_nodes_ = len(self.node_names_)
        self.n_steps_ = int(self.window_size)
        self.n_features_ = 1
        generator = seed_everything(self.random_state)
        device = resolve_device(self.device)
        rows, _ = self._pairs(sessions)
        unique, weight = torch.unique(rows, dim=0, return_counts=True)
        context, target, weight = unique[:, :-1], unique[:, -1], weight.float()
        self.model_ = self._build().to(device)
        optimiser = torch.optim.Adam(self.model_.parameters(), lr=float(self.lr))
        self.history_: list[float] = []
        for _ in tqdm(range(int(self.epochs)), disable=not self.verbose, desc="DeepLog"):
            self.model_.train()
            order = torch.randperm(context.shape[0], generator=generator)
            total = 0.0
            for start in range(0, order.numel(), int(self.batch_size)):
                idx = order[start : start + int(self.batch_size)]
                w = weight[idx].to(device)
                losses = nn.functional.cross_entropy(
                    self.model_(context[idx].to(device)), target[idx].to(device), reduction="none"
                )
                loss = (losses * w).sum() / w.sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += (losses.detach() * w).sum().item()
            self.history_.append(total / weight.sum().item())
            logger.debug("DeepLog epoch loss %.5f", self.history_[-1])
        self.train_scores_ = self._score(sessions)[0]
        if self.scoring == "rank" and self.top_g is not None:
            self.threshold_ = float(int(self.top_g) - 1)
        else:
            self.threshold_ = fit_threshold(self.train_scores_, self.threshold, self.contamination)
        self.top_g_ = int(np.floor(self.threshold_)) + 1 if self.scoring == "rank" else None
        self.decision_scores_ = self.train_scores_.double().numpy()
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.float64)
        return self

    # -- scoring -----------------------------------------------------------------------
    def _score(self, sessions: list[list[str]]) -> tuple[Tensor, Tensor]:
        """``(session scores [S], event scores [S, N])``."""
        rows, owner = self._pairs(sessions)
        n_sessions = len(sessions)
        node_scores = torch.zeros(n_sessions, self.n_nodes_)
        if rows.shape[0] == 0:
            return node_scores.max(dim=1).values, node_scores
        unique, inverse = torch.unique(rows, dim=0, return_inverse=True)
        context, target = unique[:, :-1], unique[:, -1]
        device = next(self.model_.parameters()).device
        self.model_.eval()
        scores = []
        with torch.no_grad():
            for start in range(0, unique.shape[0], 4096):
                logits = self.model_(context[start : start + 4096].to(device)).float().cpu()
                t = target[start : start + 4096]
                known = t >= 0
                picked = logits.gather(1, t.clamp_min(0)[:, None])[:, 0]
                if self.scoring == "rank":
                    s = (logits > picked[:, None]).sum(1).float()
                    s = torch.where(known, s, torch.full_like(s, float(self._num_classes)))
                else:
                    s = -(picked - torch.logsumexp(logits, dim=1))
                    s = torch.where(known, s, torch.full_like(s, UNKNOWN_NLL))
                scores.append(s)
        row_scores = torch.cat(scores)[inverse]
        row_target = rows[:, -1]
        unknown_node = len(self.events_)
        node = torch.where(
            row_target < 0,
            torch.full_like(row_target, unknown_node),
            torch.where(
                row_target == len(self.events_),
                torch.full_like(row_target, unknown_node + 1),
                row_target,
            ),
        )
        flat = owner * self.n_nodes_ + node
        node_scores = (
            node_scores.view(-1)
            .scatter_reduce(0, flat, row_scores.clamp_min(0), reduce="amax", include_self=True)
            .view(n_sessions, self.n_nodes_)
        )
        return node_scores.max(dim=1).values, node_scores

    def score_sequences(self, sequences: Any) -> Tensor:
        """Session scores, higher = more anomalous.

        Returns:
            ``Tensor[S]``: the worst rank (``"rank"``) or NLL (``"nll"``) of an event.
        """
        check_is_fitted(self)
        return self._score(as_event_sequences(sequences))[0]

    def score_windows(self, windows: Any) -> Tensor:
        """Same as :meth:`score_sequences` (the contract's name)."""
        return self.score_sequences(windows)

    def decision_function(self, windows: Any) -> Tensor:
        """Per-event-type scores of each session.

        Returns:
            ``Tensor[S, N]``, nodes as in ``node_names_``.
        """
        check_is_fitted(self)
        return self._score(as_event_sequences(windows))[1]

    # -- persistence -------------------------------------------------------------------
    def _get_state(self) -> dict[str, Tensor]:
        return dict(self.model_.state_dict())

    def _set_state(self, state: dict[str, Tensor]) -> None:
        self.model_ = self._build()
        self.model_.load_state_dict(state)
        self.model_.to(resolve_device(self.device))
