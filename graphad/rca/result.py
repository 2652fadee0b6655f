"""The typed result of a root-cause ranking."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RCAResult"]


@dataclass
class RCAResult:
    """Ranked root-cause candidates, best first.

    Attributes:
        nodes: Node names, most likely root cause first.
        scores: Ranking score of each node (higher = more likely), same order.
        method: Name of the ranker that produced it.
        paths: Optional propagation paths explaining a candidate: node -> list of paths,
            each a list of node names from the candidate to an affected node.
        onset_ns: The onset time the ranking used, if any.
        confidence: The strongest evidence over its chance level (e.g. 3.0: a source
            stands three times above what it reaches in fault-free data); ``None`` when
            the ranker has no chance level to compare with.
        evidence_above_chance: Whether any evidence stands above its chance level.
            ``False`` means the ranking is not an answer (nothing moved more than it does
            by chance, or every score is 0); ``None``: not assessed.
        evidence: Node -> its strongest evidence records, each a dict with ``source``,
            ``item`` (metric / operation / log template / edge, or ``None``), ``before``,
            ``after``, ``score``, ``calibrated`` and ``chance_level``.
        extra: Free JSON-able details (per-source scores, timings, ...).

    Example:
        >>> r = RCAResult(["db", "api", "web"], [0.9, 0.5, 0.1], method="score")
        >>> r.top(2), r.rank_of("web")
        (['db', 'api'], 3)

    """

    nodes: list[str]
    scores: list[float]
    method: str = ""
    paths: dict[str, list[list[str]]] | None = None
    onset_ns: int | None = None
    extra: dict = field(default_factory=dict)
    confidence: float | None = None
    evidence_above_chance: bool | None = None
    evidence: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.nodes) != len(self.scores):
            from graphad.exceptions import GraphadInputError

            raise GraphadInputError(
                "nodes and scores differ in length",
                field="scores",
                expected=f"{len(self.nodes)} scores",
                found=len(self.scores),
            )
        self.scores = [float(s) for s in self.scores]

    def top(self, k: int) -> list[str]:
        """The ``k`` best candidates."""
        return list(self.nodes[:k])

    def rank_of(self, node: str) -> int | None:
        """1-based rank of ``node``, or ``None`` when it is not ranked."""
        try:
            return self.nodes.index(node) + 1
        except ValueError:
            return None

    def to_dict(self) -> dict:
        """Plain-JSON view: the ranking with each node's evidence and paths.

        Example:
            >>> r = RCAResult(["db", "api"], [2.0, 0.1], confidence=2.5,
            ...               evidence_above_chance=True, paths={"db": [["db", "api"]]})
            >>> d = r.to_dict()
            >>> d["ranking"][0], d["evidence_above_chance"]
            ({'node': 'db', 'score': 2.0, 'evidence': [], 'paths': [['db', 'api']]}, True)
        """
        paths = self.paths or {}
        return {
            "method": self.method,
            "onset_ns": self.onset_ns,
            "confidence": self.confidence,
            "evidence_above_chance": self.evidence_above_chance,
            "ranking": [
                {
                    "node": n,
                    "score": s,
                    "evidence": list(self.evidence.get(n, [])),
                    "paths": list(paths.get(n, [])),
                }
                for n, s in zip(self.nodes, self.scores, strict=True)
            ],
            "paths": self.paths,
            "extra": self.extra,
        }
