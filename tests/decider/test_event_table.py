"""Every event type of SWF's model is handled or ignored on purpose, in one table."""

from __future__ import annotations

import botocore.session

from cpe.runtime.history import EVENT_HANDLING


def test_the_table_names_exactly_the_event_types_of_botocores_model() -> None:
    model = botocore.session.get_session().get_service_model("swf")
    assert set(EVENT_HANDLING) == set(model.shape_for("EventType").enum)


def test_every_entry_says_what_is_done_and_why() -> None:
    for event_type, handling in EVENT_HANDLING.items():
        assert handling in {
            "step",
            "timer",
            "signal",
            "closed",
            "workflow input",
            "cancel the workflow",
        } or (
            handling.startswith("ignore: ") and len(handling) > len("ignore: ") + 10
        ), event_type
