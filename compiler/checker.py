"""Checking the shape of a plan: known keys, right types, defaults filled in.

The checker reads positioned YAML nodes and gives the typed plan. It reports
every problem it finds and goes on with what it could read, so one run shows
all the mistakes of a file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from collections.abc import Mapping as Mapping_
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for

from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.plan import (
    DEFAULT_ACTIVITY_TIMEOUTS,
    DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT,
    DEFAULT_TASK_START_TO_CLOSE_TIMEOUT,
    TIMEOUT_KEYS,
    Activity,
    Condition,
    Plan,
    Requirement,
    Selector,
    Status,
    Step,
)
from cpe.compiler.source import Mapping, Node, Scalar, Sequence, to_data
from cpe.compiler.step_features import (
    read_for_each,
    read_retry,
    read_signal,
    read_wait,
)
from cpe.grammar.conditions import ConditionSyntaxError, parse_condition
from cpe.grammar.selectors import SelectorSyntaxError, parse_selector
from cpe.runtime.activity_ids import (
    RESERVED_IN_STEP_NAMES,
    format_activity_id,
    timeout_timer_id,
)
from cpe.runtime.swf_errors import DURATION_DIGITS, swf_name_problem

SUPPORTED_LANGUAGES = (1, 2)
EXTENSION_PREFIX = "x-"

PLAN_KEYS = {
    "name": True,
    "version": True,
    "language": False,
    "default_execution_start_to_close_timeout": False,
    "default_task_start_to_close_timeout": False,
    "input_spec": False,
    "activities": True,
    "steps": True,
    "output": False,
}
ACTIVITY_KEYS = {
    "name": True,
    "version": True,
    "task_list": False,
    **{key: False for key in TIMEOUT_KEYS},
    "input_spec": False,
    "outputs_spec": False,
}
STEP_KEYS = {
    "name": True,
    "activity": True,
    "requires": False,
    "input": False,
    "when": False,
    "retry": False,
    "for_each": False,
    "as": False,
    "max_concurrency": False,
    "tolerated_failures": False,
    "wait": False,
    "signal": False,
}
# Keys that later plan languages added, and the language each needs.
LANGUAGE_OF_KEY = {
    "when": 2,
    "retry": 2,
    "for_each": 2,
    "as": 2,
    "max_concurrency": 2,
    "tolerated_failures": 2,
    "wait": 2,
    "signal": 2,
    "output": 2,
}
STEP_KINDS = ("activity", "wait", "signal")
"""A step of plan language 2 has exactly one of these keys."""
ACTIVITY_ONLY_KEYS = ("retry", "for_each", "input")
"""Keys that mean nothing on a wait or signal step, which runs no activity."""

# SWF rejects names longer than 256 characters, names holding ':', '/', '|'
# or control characters, and names containing the literal "arn".


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    options = [str(choice) for choice in choices]
    # Case slips (`probe` for `Probe`) are the commonest typo of all.
    same_but_case = [option for option in options if option.lower() == word.lower()]
    matches = same_but_case or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


class Checker:
    def __init__(self, path: str, sink: DiagnosticSink) -> None:
        self.path = path
        self.sink = sink

    # -- generic readers ----------------------------------------------------

    def keys(
        self,
        mapping: Mapping,
        allowed: dict[str, bool],
        what: str,
        extensions: bool = False,
    ) -> None:
        """Report unknown and missing keys; with `extensions`, keys starting
        with ``x-`` are the author's own (a place for YAML anchors) and ignored."""
        for key, _ in mapping:
            if extensions and key.text.startswith(EXTENSION_PREFIX):
                continue
            if key.text not in allowed:
                hint = did_you_mean(key.text, allowed) or (
                    "known keys: " + ", ".join(sorted(allowed))
                )
                self.sink.error(
                    key.position, "E110", f"unknown key '{key.text}' in {what}", hint
                )
        for name, required in allowed.items():
            if required and mapping.get(name) is None:
                self.sink.error(
                    mapping.position, "E111", f"{what} lacks the required key '{name}'"
                )

    def mapping(self, node: Node, what: str) -> Mapping | None:
        if isinstance(node, Mapping):
            return node
        self.sink.error(
            node.position, "E112", f"{what} must be a mapping of keys to values"
        )
        return None

    def sequence(self, node: Node, what: str) -> Sequence | None:
        if isinstance(node, Sequence):
            return node
        self.sink.error(
            node.position, "E112", f"{what} must be a list (items starting with '-')"
        )
        return None

    def text(self, node: Node | None, what: str) -> str | None:
        if node is None:
            return None
        if isinstance(node, Scalar) and not node.is_null and node.text.strip():
            return node.text
        self.sink.error(node.position, "E112", f"{what} must be a non-empty text value")
        return None

    def swf_name(self, node: Node | None, what: str) -> str | None:
        value = self.text(node, what)
        if value is None or node is None:
            return value
        problem = swf_name_problem(value)
        if problem is not None:
            shown = value if len(value) <= 60 else value[:57] + "..."
            self.sink.error(
                node.position,
                "E115",
                f"{what} '{shown}' is a name SWF rejects: {problem}",
            )
        return value

    def timeout(self, node: Node | None, what: str, default: str) -> str:
        if node is None:
            return default
        if isinstance(node, Scalar):
            value = node.value
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and 0 <= value < 10**DURATION_DIGITS
            ):
                return str(value)
            if isinstance(value, str) and (value == "NONE" or value.isdigit()):
                text = str(int(value)) if value.isdigit() else value
                if len(text) <= DURATION_DIGITS:
                    return text
        self.sink.error(
            node.position,
            "E113",
            f'{what} must be a number of seconds, 0 to 99999999, or "NONE"',
        )
        return default

    def json_schema(self, node: Node | None, what: str) -> Any:
        if node is None or (isinstance(node, Scalar) and node.is_null):
            return None
        schema = to_data(node)
        if not isinstance(schema, dict | bool):
            self.sink.error(
                node.position, "E140", f"{what} must be a JSON Schema (a mapping)"
            )
            return None
        try:
            validator_for(schema).check_schema(schema)  # type: ignore[arg-type]
        except SchemaError as error:
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            self.sink.error(
                node.position,
                "E140",
                f"{what} is not a valid JSON Schema at {where}: {error.message}",
            )
        return schema

    # -- the plan -----------------------------------------------------------

    def plan(self, root: Node) -> Plan | None:
        mapping = self.mapping(root, "a plan")
        if mapping is None:
            return None
        self.keys(mapping, PLAN_KEYS, "the plan", extensions=True)
        plan = Plan(
            path=self.path,
            name=self.swf_name(mapping.get("name"), "the workflow name") or "",
            version=self.swf_name(mapping.get("version"), "the workflow version") or "",
            language=self.language(mapping.get("language")),
            position=mapping.position,
            execution_start_to_close_timeout=self.timeout(
                mapping.get("default_execution_start_to_close_timeout"),
                "default_execution_start_to_close_timeout",
                DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT,
            ),
            task_start_to_close_timeout=self.timeout(
                mapping.get("default_task_start_to_close_timeout"),
                "default_task_start_to_close_timeout",
                DEFAULT_TASK_START_TO_CLOSE_TIMEOUT,
            ),
            input_spec=self.json_schema(
                mapping.get("input_spec"), "the plan's input_spec"
            ),
        )
        output = mapping.get("output")
        if output is not None and self.needs_language(mapping, "output", plan.language):
            plan.output = self.template(output, "the workflow's output")
        for node in self.items(mapping.get("activities"), "activities"):
            activity = self.activity(node)
            if activity is not None and self.unique(
                activity.name,
                activity.position,
                plan.activities,
                "activity",
                "E121",
                "steps name activities by name alone, so each name may appear once",
            ):
                plan.activities[activity.name] = activity
        for node in self.items(mapping.get("steps"), "steps"):
            step = self.step(node, plan.language)
            if step is not None and self.unique(
                step.name,
                step.position,
                plan.steps,
                "step",
                "E122",
                "give each step its own name",
            ):
                plan.steps[step.name] = step
        return plan

    def unique(
        self,
        name: str,
        position: Position,
        seen: Mapping_[str, Activity | Step],
        kind: str,
        code: str,
        hint: str,
    ) -> bool:
        """Whether `name` is new among `seen`; reports the second declaration if not."""
        if name not in seen:
            return True
        first = seen[name].position
        self.sink.error(
            position,
            code,
            f"{kind} '{name}' is declared twice (first at line {first.line})",
            hint,
        )
        return False

    def language(self, node: Node | None) -> int:
        if node is None:
            return 1
        value = node.value if isinstance(node, Scalar) else None
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value in SUPPORTED_LANGUAGES
        ):
            return value
        self.sink.error(
            node.position,
            "E113",
            f"language must be one of {', '.join(map(str, SUPPORTED_LANGUAGES))}",
            "leave it out for the original CPE plan format",
        )
        return 1

    def items(self, node: Node | None, what: str) -> list[Node]:
        if node is None:
            return []
        if isinstance(node, Scalar) and node.is_null:
            self.sink.error(
                node.position, "E112", f"{what} is empty; list at least one"
            )
            return []
        sequence = self.sequence(node, what)
        return sequence.items if sequence else []

    def activity(self, node: Node) -> Activity | None:
        mapping = self.mapping(node, "an activity")
        if mapping is None:
            return None
        self.keys(mapping, ACTIVITY_KEYS, "an activity")
        name = self.swf_name(mapping.get("name"), "an activity name")
        version = self.swf_name(mapping.get("version"), "an activity version")
        if name is None or version is None:
            return None
        task_list = (
            self.swf_name(mapping.get("task_list"), "task_list") or f"{name}-{version}"
        )
        timeouts = {
            key: self.timeout(mapping.get(key), key, DEFAULT_ACTIVITY_TIMEOUTS[key])
            for key in TIMEOUT_KEYS
        }
        return Activity(
            name=name,
            version=version,
            position=mapping.position,
            task_list=task_list,
            timeouts=timeouts,
            input_spec=self.json_schema(
                mapping.get("input_spec"), f"{name}'s input_spec"
            ),
            outputs_spec=self.outputs_spec(mapping.get("outputs_spec"), name),
            key_positions={key.text: value.position for key, value in mapping},
        )

    def outputs_spec(
        self, node: Node | None, activity: str
    ) -> dict[str, Selector] | None:
        if node is None or (isinstance(node, Scalar) and node.is_null):
            return None
        mapping = self.mapping(node, f"{activity}'s outputs_spec")
        if mapping is None:
            return None
        selectors: dict[str, Selector] = {}
        for key, value in mapping:
            text = self.text(value, f"the selector of output '{key.text}'")
            if text is None or not isinstance(value, Scalar):
                continue
            try:
                steps = parse_selector(text)
            except SelectorSyntaxError as error:
                self.sink.error(
                    value.position_in_content(1, error.column),
                    "E141",
                    f"the selector '{text}' of output '{key.text}' does not parse",
                    error.message,
                )
                continue
            selectors[key.text] = Selector(text, steps, value.position)
        return selectors

    def step(self, node: Node, language: int = 1) -> Step | None:
        mapping = self.mapping(node, "a step")
        if mapping is None:
            return None
        name = self.swf_name(mapping.get("name"), "a step name")
        # From language 2 a step may run no activity (wait, signal): which of
        # the three it has is checked below, with a message that says so.
        allowed = {**STEP_KEYS, "activity": language < 2}
        self.keys(mapping, allowed, f"step {name}" if name else "a step")
        if name is None:
            return None
        if language >= 2:
            self.reserved_characters(mapping, name)
        # A step with a bad activity is kept (with no activity) so that the
        # steps requiring it or using its output are still checked.
        activity_node = mapping.get("activity")
        activity = self.text(activity_node, f"step {name}'s activity") or ""
        step = Step(
            name, activity, mapping.position, (activity_node or mapping).position
        )
        for entry in self.items(mapping.get("requires"), f"step {name}'s requires"):
            requirement = self.requirement(entry)
            if requirement is not None:
                step.requires.append(requirement)
        template = mapping.get("input")
        if template is not None:
            step.input = self.template(template, f"step {name}'s input")
        when = mapping.get("when")
        if when is not None and self.needs_language(mapping, "when", language):
            step.when = self.condition(when, name)
        self.language_2_keys(mapping, step, language)
        return step

    def template(self, node: Node, what: str) -> Scalar | None:
        if isinstance(node, Scalar) and not node.is_null:
            return node
        self.sink.error(
            node.position,
            "E112",
            f"{what} must be a template text",
            "write it as a block: 'input: |' followed by the JSON template"
            if what.endswith("input")
            else "write it as a block: 'output: |' followed by the JSON template",
        )
        return None

    def reserved_characters(self, mapping: Mapping, name: str) -> None:
        reserved = sorted({c for c in name if c in RESERVED_IN_STEP_NAMES})
        if not reserved:
            return
        name_node = mapping.get("name")
        assert name_node is not None
        self.sink.error(
            name_node.position,
            "E118",
            f"step name '{name}' holds {', '.join(repr(c) for c in reserved)}, which "
            "plan language 2 keeps for activity ids (step[item]#attempt)",
            "use letters, digits, '_' or '-' in step names",
        )

    def language_2_keys(self, mapping: Mapping, step: Step, language: int) -> None:
        """retry, for_each (and its keys), wait and signal; and which kind of
        step this is."""
        written = [
            key
            for key in LANGUAGE_OF_KEY
            if key not in ("when", "output") and mapping.key_node(key) is not None
        ]
        allowed = {
            key for key in written if self.needs_language(mapping, key, language)
        }
        if language < 2:
            return
        kinds = [key for key in STEP_KINDS if mapping.key_node(key) is not None]
        if not kinds:
            self.sink.error(
                mapping.position,
                "E117",
                f"step {step.name} has none of activity, wait and signal",
                "give it 'activity:' to run a task, 'wait:' to pause or 'signal:' "
                "to wait for a signal",
            )
        for extra in kinds[1:]:
            self.sink.error(
                self.key_position(mapping, extra),
                "E117",
                f"step {step.name} has both '{kinds[0]}' and '{extra}'; a step is "
                "one of activity, wait and signal",
                "split it into two steps, one requiring the other",
            )
        if kinds and kinds[0] != "activity":
            for key in ACTIVITY_ONLY_KEYS:
                if mapping.key_node(key) is not None:
                    self.sink.error(
                        self.key_position(mapping, key),
                        "E119",
                        f"step {step.name} is a {kinds[0]} step, which runs no "
                        f"activity, so it cannot have '{key}'",
                        "move it to a step that runs an activity",
                    )
        if "wait" in allowed:
            wait = mapping.get("wait")
            assert wait is not None
            step.wait = read_wait(self, wait, step.name)
        if "signal" in allowed:
            signal = mapping.get("signal")
            assert signal is not None
            step.signal = read_signal(self, signal, step.name)
            if step.signal is not None and step.signal.timeout is not None:
                self.timer_id(timeout_timer_id(step.name), step.signal.position)
        if "retry" in allowed:
            retry = mapping.get("retry")
            assert retry is not None
            step.retry = read_retry(self, retry, step.name)
        step.for_each = read_for_each(self, mapping, step.name)
        self.longest_activity_id(mapping, step)

    def longest_activity_id(self, mapping: Mapping, step: Step) -> None:
        """The id of a step's last attempt (of its first item) must be an id
        SWF takes; longer item indexes can only add to it, so only a name
        near SWF's limit is at risk."""
        if step.retry is None and step.for_each is None:
            return
        item = 0 if step.for_each is not None else None
        attempt = step.retry.max_attempts if step.retry is not None else 1
        longest = format_activity_id(step.name, item, attempt)
        problem = swf_name_problem(longest)
        name_node = mapping.get("name")
        if problem is not None and name_node is not None:
            self.sink.error(
                name_node.position,
                "E115",
                f"step {step.name[:40]}...: the activity id of an attempt would be "
                f"{len(longest)} characters; {problem}",
                "shorten the step name",
            )

    def timer_id(self, timer: str, position: Position) -> None:
        problem = swf_name_problem(timer)
        if problem is not None:
            self.sink.error(
                position,
                "E115",
                f"the timer id '{timer[:57]}...' is an id SWF rejects: {problem}",
                "shorten the step name",
            )

    @staticmethod
    def key_position(mapping: Mapping, key: str) -> Position:
        key_node = mapping.key_node(key)
        return key_node.position if key_node is not None else mapping.position

    def needs_language(self, mapping: Mapping, key: str, language: int) -> bool:
        """Whether `key` may be used in a plan of `language`; reports it if not."""
        needed = LANGUAGE_OF_KEY[key]
        if language >= needed:
            return True
        key_node = mapping.key_node(key)
        assert key_node is not None
        self.sink.error(
            key_node.position,
            "E116",
            f"'{key}' belongs to plan language {needed}; this plan is language {language}",
            f"add 'language: {needed}' at the top of the plan",
        )
        return False

    def condition(self, node: Node, step: str) -> Condition | None:
        text = self.text(node, f"step {step}'s when")
        if text is None or not isinstance(node, Scalar):
            return None
        try:
            ast = parse_condition(text)
        except ConditionSyntaxError as error:
            self.sink.error(
                node.position_in_content(error.line, error.column),
                "E142",
                f"step {step}'s condition does not parse: {error.message}",
            )
            return None
        return Condition(text, ast, node)

    def requirement(self, node: Node) -> Requirement | None:
        if isinstance(node, Scalar):
            name = self.text(node, "a requirement")
            return Requirement(name, Status.SUCCEEDED, node.position) if name else None
        if isinstance(node, Sequence) and len(node.items) == 2:
            name = self.text(node.items[0], "the step of a requirement")
            status_node = node.items[1]
            status_text = self.text(status_node, "the status of a requirement")
            if name is None or status_text is None:
                return None
            try:
                status = Status(status_text)
            except ValueError:
                self.sink.error(
                    status_node.position,
                    "E124",
                    f"unknown status '{status_text}'",
                    did_you_mean(status_text, [s.value for s in Status])
                    or "use one of: " + ", ".join(s.value for s in Status),
                )
                # Keep the edge, so that the graph checks still see it.
                status = Status.COMPLETED
            return Requirement(name, status, node.items[0].position)
        self.sink.error(
            node.position,
            "E112",
            "a requirement is a step name or a [step, status] pair",
            "for example: - [ValidateAssetStep, succeeded]",
        )
        return None
