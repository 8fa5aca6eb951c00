#!/usr/bin/env python3
"""How the compiler's cost grows with plan size, against loading the same YAML.

Generates plans of 100, 1,000 and 10,000 steps (a chain with a fan-out every
ten steps, each step's template reading the previous step's output), then
measures, side by side in one run, `yaml.safe_load` of the file (and the same
with libyaml's loader, which the compiler's YAML reading uses when present) and
`cpe.compiler.compile_text` of it: loading, checking, binding resolution, the
render check of every template, the graph checks and the IR. Machines here are
noisy: read the ratio of the two, not the absolute times (both per-step costs
creep up with size alike, as Python's memory management works harder). Each
figure is the best of a few repetitions.

    python tools/bench_compile.py [--sizes 100 1000 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable

import yaml

from cpe.compiler import compile_text

_C_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def generate_plan(steps: int) -> str:
    lines = [
        "name: Bench",
        'version: "1"',
        "input_spec:",
        "  type: object",
        "  properties: {file: {type: string}}",
        "activities:",
        "  - name: Work",
        '    version: "1"',
        '    outputs_spec: {value: "$.value", meta: "$.meta"}',
        "steps:",
    ]
    for index in range(steps):
        lines.append(f"  - name: step{index}")
        lines.append("    activity: Work")
        if index == 0:
            lines.append("    input: '{\"file\": {{ __input__.file }}}'")
            continue
        # Every tenth step hangs off the one ten before, the rest chain on.
        parent = index - 10 if index % 10 == 0 and index >= 10 else index - 1
        lines.append(f"    requires: [[step{parent}, succeeded]]")
        lines.append("    input: |")
        lines.append(f'      {{"value": {{{{ step{parent}.value }}}}, "n": {index}}}')
    return "\n".join(lines) + "\n"


def best_of(repeat: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    print(
        f"{'steps':>7} {'load':>9} {'load/step':>10} {'compile':>9} "
        f"{'compile/step':>13} {'compile / load':>15} {'compile / C load':>17}"
    )
    for size in arguments.sizes:
        text = generate_plan(size)
        load = best_of(arguments.repeat, functools.partial(yaml.safe_load, text))
        # The compiler composes with libyaml where PyYAML has it; loading with
        # libyaml too is the stricter comparison.
        c_load = best_of(
            arguments.repeat, functools.partial(yaml.load, text, Loader=_C_LOADER)
        )
        compile_time = best_of(
            arguments.repeat, functools.partial(compile_text, text, "bench.yml")
        )
        print(
            f"{size:>7} {load:>8.3f}s {load / size * 1e6:>8.0f}us {compile_time:>8.3f}s "
            f"{compile_time / size * 1e6:>11.0f}us {compile_time / load:>14.2f}x "
            f"{compile_time / c_load:>16.2f}x"
        )


if __name__ == "__main__":
    main()
