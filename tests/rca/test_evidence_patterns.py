"""Reference log templates and per-span event-pattern evidence."""

import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, NotFittedError
from graphad.rca.evidence.patterns import EventPatternEvidence, span_events
from graphad.rca.evidence.templates import NEW_TEMPLATE, ReferenceTemplates

HEX = "4f1c9d2e8a7b6c5d"


def _trace(t: int, *, db_called: bool = True, error_at: str | None = None):
    """One request web -> api -> db with a log line per span; spans and log lines."""
    ids = [f"{t}w", f"{t}a", f"{t}d"]
    spans = pd.DataFrame(
        {
            "trace_id": [f"t{t}"] * 3,
            "span_id": ids,
            "parent_id": ["", ids[0], ids[1]],
            "service": ["web-579b9bff58-t2dbm", "api-6f94c49ccd-4rdb2", "db-0"],
            "operation": ["GET /", "getUser", "query"],
        }
    )
    head = f"10:00:0{t % 10}.123 INFO "
    logs = [
        (ids[0], f"{head} w.Handler#12 TraceID: {HEX} handling GET request {t} from browser"),
        (ids[1], f"{head} a.UserImpl#31 TraceID: {HEX} user {t} found"),
        (ids[1], f"{head} a.UserImpl#34 TraceID: {HEX} sending profile of {t} back to caller"),
        (ids[2], f"{head} d.Query#7 TraceID: {HEX} select done rows={t} in {t + 3} ms"),
    ]
    if not db_called:  # the api returns early: no call to db, no line #34
        spans = spans.iloc[:2]
        logs = logs[:2]
    if error_at is not None:
        span = ids[["web", "api", "db"].index(error_at)]
        logs.append((span, f"10:00:09.999 ERROR x.Servlet#175 TraceID: {HEX} threw exception"))
    return spans, pd.DataFrame(logs, columns=["span_id", "message"])


def _period(n: int, start: int = 0, **kwargs):
    parts = [_trace(start + t, **kwargs) for t in range(n)]
    return (
        pd.concat([p[0] for p in parts], ignore_index=True),
        pd.concat([p[1] for p in parts], ignore_index=True),
    )


def test_reference_templates_bounded_and_code_locations_kept():
    _, logs = _period(20)
    templates = ReferenceTemplates().fit(logs["message"])
    # ids, numbers and times masked: one template per log statement, whatever the payload
    assert templates.n_templates == 4
    ids = templates.transform(logs["message"])
    assert len(set(ids)) == 4 and (ids >= 0).all()
    texts = " ".join(templates.templates().values())
    assert "UserImpl#31" in texts and "UserImpl#34" in texts  # '#NN' is not masked


def test_reference_templates_new_line_and_variable_payload():
    templates = ReferenceTemplates().fit(
        [f"10:00:01.5 INFO  s.Seat#9 TraceID: {HEX} seats [{i}, {i + 1}]" for i in range(5)]
    )
    got = templates.transform(
        [
            f"10:00:02.5 INFO  s.Seat#9 TraceID: {HEX} seats [1, 2, 3, 4]",  # longer payload
            "10:00:02.6 ERROR NullPointerException in s.Seat#44",
        ]
    )
    assert got[0] >= 0 and got[1] == NEW_TEMPLATE


def test_reference_templates_errors():
    with pytest.raises(NotFittedError):
        ReferenceTemplates().transform(["x"])
    with pytest.raises(GraphadInputError):
        ReferenceTemplates(prefix_tokens=0)


def test_span_events_links_calls_and_logs():
    spans, logs = _trace(1)
    templates = ReferenceTemplates().fit(logs["message"])
    table, events = span_events(spans, logs, templates)
    assert table["node"].tolist() == ["web", "api", "db"]
    api = set(events.loc[events["span_id"] == "1a", "event"])
    assert "C:db|query" in api and sum(e.startswith("L:") for e in api) == 2


def test_return_early_blamed_on_the_callee_that_stopped():
    ref_spans, ref_logs = _period(30)
    evidence = EventPatternEvidence().fit(ref_spans, ref_logs)
    assert evidence.n_templates == 4
    spans, logs = _period(20, start=100, db_called=False)
    scores = evidence.score(spans, logs)
    assert scores.index[0] == "api"
    assert scores.loc["api", "deviant"] == 20 and scores.loc["web", "deviant"] == 0


def test_exception_blamed_where_it_starts_not_on_callers():
    ref_spans, ref_logs = _period(30)
    evidence = EventPatternEvidence().fit(ref_spans, ref_logs)
    spans, logs = _period(20, start=100, error_at="db")
    # the callers log the error as well: the deepest deviant span is the db's
    extra = logs[logs["message"].str.contains("ERROR")].copy()
    for suffix in ("a", "w"):
        callers = extra.assign(span_id=extra["span_id"].str[:-1] + suffix)
        logs = pd.concat([logs, callers], ignore_index=True)
    scores = evidence.score(spans, logs)
    assert scores.index[0] == "db"
    assert scores.loc["web", "deviant"] == 0 and scores.loc["api", "deviant"] == 0


def test_normal_period_scores_near_zero_and_unfitted_raises():
    ref_spans, ref_logs = _period(30)
    evidence = EventPatternEvidence().fit(ref_spans, ref_logs)
    spans, logs = _period(20, start=200)
    assert (evidence.score(spans, logs)["deviant"] == 0).all()
    with pytest.raises(NotFittedError):
        EventPatternEvidence().score(spans)


def test_spans_only_reference_ignores_case_logs():
    ref_spans, _ = _period(10)
    evidence = EventPatternEvidence().fit(ref_spans)
    spans, logs = _period(5, start=50, error_at="db")
    assert evidence.n_templates == 0
    assert (evidence.score(spans, logs)["deviant"] == 0).all()


def test_pattern_source_in_multi_source_evidence():
    from graphad.ingest.telemetry import Telemetry
    from graphad.rca.evidence import MultiSourceEvidence
    from graphad.rca.view import CaseView

    ref_spans, ref_logs = _period(30)
    n = len(ref_spans)
    ref_spans = ref_spans.assign(start_ns=range(n), duration_ns=10, status=0, kind="")
    reference = Telemetry(spans=ref_spans, node_rule="service")
    before, _ = _period(20, start=100)
    after, _ = _period(20, start=200, db_called=False)
    spans = pd.concat([before, after], ignore_index=True)
    spans = spans.assign(start_ns=range(len(spans)), duration_ns=10, status=0, kind="")
    onset = len(before)
    view = CaseView(spans=spans, onset_ns=onset, node_rule="service")
    off = MultiSourceEvidence().fit(reference)
    assert "pattern" not in off.evidence(view)  # weight 0 by default: not computed
    on = MultiSourceEvidence(weights={"pattern": 1.0}).fit(reference)
    scores = on.score(view)
    assert scores.raw["pattern"].idxmax() == "api"
    assert scores.table["pattern"].idxmax() == "api"


def test_messages_preferred_over_a_template_column():
    ref_spans, ref_logs = _period(30)
    # a log frame may carry a per-line 'template' (here the raw text) beside the message:
    # the reference templates are mined from the messages all the same
    ref_logs = ref_logs.assign(template=ref_logs["message"])
    evidence = EventPatternEvidence().fit(ref_spans, ref_logs)
    spans, logs = _period(20, start=200)
    assert (evidence.score(spans, logs.assign(template=logs["message"]))["deviant"] == 0).all()
