from hypothesis import given
from hypothesis import strategies as st

from cpe.runtime.activity_ids import (
    RESERVED_IN_STEP_NAMES,
    ActivityId,
    format_activity_id,
    parse_activity_id,
)

step_names = st.text(min_size=1, max_size=20).filter(
    lambda name: not any(c in name for c in RESERVED_IN_STEP_NAMES)
)


def test_examples() -> None:
    assert format_activity_id("transcode") == "transcode"
    assert format_activity_id("transcode", attempt=2) == "transcode#2"
    assert format_activity_id("square", item=3) == "square[3]"
    assert format_activity_id("square", item=3, attempt=12) == "square[3]#12"
    assert parse_activity_id("square[3]#12") == ActivityId("square", 3, 12)


def test_a_known_step_name_is_read_whole() -> None:
    assert parse_activity_id("odd[1]", frozenset({"odd[1]"})) == ActivityId("odd[1]")
    assert parse_activity_id("odd[1]") == ActivityId("odd", 1)


def test_what_is_no_item_or_attempt_stays_in_the_name() -> None:
    assert parse_activity_id("a#1") == ActivityId("a#1")
    assert parse_activity_id("a[01]") == ActivityId("a[01]")
    assert parse_activity_id("") == ActivityId("")


@given(
    step_names,
    st.none() | st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=1, max_value=10**6),
)
def test_parse_undoes_format(step: str, item: int | None, attempt: int) -> None:
    text = format_activity_id(step, item, attempt)
    assert parse_activity_id(text) == ActivityId(step, item, attempt)
