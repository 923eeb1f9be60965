"""What a fake answers on cue instead of itself: its outage's answer while it is down, else
the next of its `fail_next` answers (see `testkit.fakes.server`)."""

from __future__ import annotations

from starlette.responses import Response

from testkit.fakes.server import Down, Outage, Scripted, answer_with


def cued_answer(outage: Outage, scripted: list[Scripted]) -> Response | Down | None:
    """The answer cued for this request, or None when the fake answers as the service."""
    down = outage.intercept()
    if down is not None:
        return down
    if scripted:
        return answer_with(scripted.pop(0))
    return None
