"""Changes to the keys of plan language 2: a step's retry, fan-out, wait and
signal, and the workflow's output.

What a change does to running executions follows from how the decider reads
them: a retry policy, a fan-out's cap and tolerance and the output are read
again at each decision, while a timer already started keeps its duration and
activities already scheduled keep their ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_values import show

LANGUAGE_2_STEP_KEYS = {"retry", "for_each", "wait", "signal"}


def step_kind(step: dict[str, Any]) -> str:
    """What a step does, as a sentence's object: `runs Echo`, `waits 30 s`."""
    if "wait" in step:
        return f"waits {step['wait']['seconds']} s"
    signal = step.get("signal")
    if signal is not None:
        text = f"waits for signal {signal['name']}"
        if signal["timeout"] is not None:
            text += f" (at most {signal['timeout']} s)"
        return text
    return f"runs {step['activity']}"


def _kind_key(step: dict[str, Any]) -> str:
    return "wait" if "wait" in step else "signal" if "signal" in step else "activity"


def kind_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return _kind_key(old) != _kind_key(new)


def step_kind_change(
    context: DiffContext, name: str, old: dict[str, Any], new: dict[str, Any]
) -> Change:
    breaking, note = context.replay(
        f"a running execution that already started {name} holds activity tasks or "
        "timers of the old kind of step, which the new IR does not expect"
    )
    return Change(
        kind="step-kind-changed",
        subject=Subject("step", name),
        key=_kind_key(new),
        message=f"step {name} {step_kind(new)} instead of: {step_kind(old)}",
        before=_kind_key(old),
        after=_kind_key(new),
        breaking=breaking,
        note=note,
    )


def language_2_step_changes(
    context: DiffContext, name: str, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    subject = Subject("step", name)
    yield from _retry(context, subject, old.get("retry"), new.get("retry"))
    yield from _for_each(context, subject, old.get("for_each"), new.get("for_each"))
    if _kind_key(old) == _kind_key(new):
        yield from _wait(subject, old.get("wait"), new.get("wait"))
        yield from _signal(context, subject, old.get("signal"), new.get("signal"))


def _retry(
    context: DiffContext, subject: Subject, old: Any, new: Any
) -> Iterator[Change]:
    if old == new:
        return
    name = subject.name
    if old is None:
        message = f"step {name} now retries: up to {new['max_attempts']} attempts"
        breaking: bool | None = False
        note = "running executions retry this step's attempts that fail from now on"
    elif new is None:
        message = f"step {name} no longer retries (it made up to {old['max_attempts']} attempts)"
        breaking, note = context.replay(
            f"a running execution waiting to retry {name} has a retry timer the new "
            "IR does not expect",
            breaking=None,
        )
    else:
        changed = [
            f"{key} {show(old[key])} → {show(new[key])}"
            for key in sorted(new)
            if old.get(key) != new[key]
        ]
        message = f"step {name}'s retry: " + ", ".join(changed)
        breaking = False
        note = (
            "applies to attempts of running executions that fail from now on; a "
            "retry already waiting keeps its timer"
        )
    yield Change(
        kind="retry-changed",
        subject=subject,
        key="retry",
        message=message,
        before=old,
        after=new,
        breaking=breaking,
        note=note,
    )


def _for_each(
    context: DiffContext, subject: Subject, old: Any, new: Any
) -> Iterator[Change]:
    if old == new:
        return
    name = subject.name
    if old is None or new is None:
        message = (
            f"step {name} now runs once per item of {new['text']}"
            if old is None
            else f"step {name} no longer fans out (it ran once per item of {old['text']})"
        )
        breaking, note = context.replay(
            f"a running execution that already scheduled {name} holds activity ids "
            "of the old form (step, or step[item]), which the new IR reads otherwise"
        )
        yield Change(
            kind="fan-out-changed",
            subject=subject,
            key="for_each",
            message=message,
            before=old,
            after=new,
            breaking=breaking,
            note=note,
        )
        return
    if old["path"] != new["path"]:
        breaking, note = context.replay(
            f"a running execution that already scheduled items of {name} counted "
            "them in the old list; the new path may give another list",
            breaking=None,
        )
        yield _fan_out_part(
            subject, "for_each.path", old["text"], new["text"], breaking, note
        )
    if old["as"] != new["as"]:
        yield _fan_out_part(
            subject,
            "for_each.as",
            old["as"],
            new["as"],
            False,
            "only the name in the input template changes",
        )
    if old["max_concurrency"] != new["max_concurrency"]:
        yield _fan_out_part(
            subject,
            "for_each.max_concurrency",
            old["max_concurrency"],
            new["max_concurrency"],
            False,
            "running executions open items under the new cap from their next decision",
        )
    if old["tolerated_failures"] != new["tolerated_failures"]:
        fewer = new["tolerated_failures"] < old["tolerated_failures"]
        breaking, note = (
            context.replay(
                f"a running execution whose items of {name} already failed more than "
                "the new tolerance fails the step",
                breaking=None,
            )
            if fewer
            else (False, "a step that would have survived still survives")
        )
        yield _fan_out_part(
            subject,
            "for_each.tolerated_failures",
            old["tolerated_failures"],
            new["tolerated_failures"],
            breaking,
            note,
        )


def _fan_out_part(
    subject: Subject,
    key: str,
    before: Any,
    after: Any,
    breaking: bool | None,
    note: str,
) -> Change:
    return Change(
        kind="fan-out-changed",
        subject=subject,
        key=key,
        message=f"step {subject.name}'s {key} {show(before)} → {show(after)}",
        before=before,
        after=after,
        breaking=breaking,
        note=note,
    )


def _wait(subject: Subject, old: Any, new: Any) -> Iterator[Change]:
    if old == new or old is None or new is None:
        return
    yield Change(
        kind="wait-changed",
        subject=subject,
        key="wait",
        message=f"step {subject.name} waits {new['seconds']} s instead of {old['seconds']} s",
        before=old["seconds"],
        after=new["seconds"],
        breaking=False,
        note="a timer already started keeps its duration; later ones take the new one",
    )


def _signal(
    context: DiffContext, subject: Subject, old: Any, new: Any
) -> Iterator[Change]:
    if old == new or old is None or new is None:
        return
    name = subject.name
    if old["name"] != new["name"]:
        breaking, note = context.replay(
            f"a running execution waiting at {name} now needs a signal named "
            f"{new['name']}; one named {old['name']} no longer counts, even if it "
            "already came",
            breaking=None,
        )
        yield Change(
            kind="signal-changed",
            subject=subject,
            key="signal.name",
            message=f"step {name} waits for signal {new['name']} instead of {old['name']}",
            before=old["name"],
            after=new["name"],
            breaking=breaking,
            note=note,
        )
    if old["timeout"] != new["timeout"]:
        yield Change(
            kind="signal-changed",
            subject=subject,
            key="signal.timeout",
            message=(
                f"step {name}'s signal timeout {_timeout(old['timeout'])} → "
                f"{_timeout(new['timeout'])}"
            ),
            before=old["timeout"],
            after=new["timeout"],
            breaking=None if old["timeout"] is not None else False,
            note=(
                "a timeout timer already started keeps its duration; a removed "
                "timeout leaves running executions a timer the new IR does not expect"
                if old["timeout"] is not None
                else "steps that become ready from now on start the timer"
            ),
        )


def _timeout(value: int | None) -> str:
    return "none" if value is None else f"{value} s"


def output_changes(context: DiffContext, subject: Subject) -> Iterator[Change]:
    old = context.old["workflow"].get("output")
    new = context.new["workflow"].get("output")
    if old == new:
        return
    if old is None:
        message = f"workflow {subject.name} now has an output template"
    elif new is None:
        message = f"workflow {subject.name} no longer has an output template"
    else:
        message = f"workflow {subject.name}'s output template changed"
    yield Change(
        kind="output-changed",
        subject=subject,
        key="output",
        message=message,
        before=None if old is None else old["template"],
        after=None if new is None else new["template"],
        breaking=False,
        note=(
            "executions that complete from now on give the new result; whoever "
            "reads the result of a workflow sees its new shape"
        ),
    )
