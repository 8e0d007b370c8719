"""Compiled vs dynamic vs the hand-written floor on the moons step; compile cost by size.

    python scripts/compile_bench.py [--steps N] [--chain 10000,100000,1000000]

Prints median step times (forward + backward + SGD update) of the dynamic engine, the
compiled step and ``benchmarks.floor``, the compiled step's one-time trace-and-compile
cost, and the trace + compile time of y = y * 0.999 + 0.001 chains of the given sizes
(two nodes a step). Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd  # noqa: E402
import nn  # noqa: E402
from benchmarks import workloads  # noqa: E402
from benchmarks.floor import ALPHA  # noqa: E402


def compiled_step_factory(model: nn.MLP) -> tuple:
    params = model.parameters()

    def loss(X: list, y: list) -> autograd.Value:
        scores = [model(x) for x in X]
        return nn.losses.hinge(scores, y) + ALPHA * nn.losses.l2(params)

    f = autograd.compile(loss)

    def step(model: nn.MLP, X: list, y: list, k: int) -> float:
        for p in params:
            p.grad = 0.0
        value = f(X, y)
        lr = workloads.learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        return value

    return f, step


def median_ms(times: list) -> float:
    return statistics.median(times) * 1e3


def moons(steps: int) -> None:
    X, y = workloads.moons()
    model = workloads.chainrule_model()
    f, step = compiled_step_factory(model)
    start = time.perf_counter()
    f(X, y)
    first = time.perf_counter() - start
    program = f._last
    rows = {
        "dynamic": workloads.time_steps(workloads.chainrule_mlp_step,
                                        workloads.chainrule_model(), X, y, steps),
        "compiled": workloads.time_steps(step, model, X, y, steps),
        "floor": workloads.time_steps(workloads.floor_mlp_step,
                                      workloads.floor_model(workloads.chainrule_model()),
                                      X, y, steps),
    }
    floor = median_ms(rows["floor"])
    print(f"moons step, median of {steps} (ms):")
    for name, times in rows.items():
        print(f"  {name:9s} {median_ms(times):7.2f}   {median_ms(times) / floor:5.2f}x floor")
    print(f"  trace + compile (first call): {first:.3f} s, {program.node_count} nodes, "
          f"{len(program.calls)} chunks ({program.distinct_chunks} distinct)")


def chain(sizes: list) -> None:
    print("chain y = y * 0.999 + 0.001: building the graph, then trace + compile + first run")
    for nodes in sizes:
        steps = nodes // 2

        def fn(x: autograd.Value, steps: int = steps) -> autograd.Value:
            y = x
            for _ in range(steps):
                y = y * 0.999 + 0.001
            return y

        gc.collect()
        start = time.perf_counter()
        fn(autograd.Value(0.5))
        build = time.perf_counter() - start
        f = autograd.compile(fn)
        start = time.perf_counter()
        f(autograd.Value(0.5))
        first = time.perf_counter() - start
        start = time.perf_counter()
        f(autograd.Value(0.5))
        again = time.perf_counter() - start
        program = f._last
        print(f"  {nodes:>9,d} nodes: build {build:5.2f} s; first call {first:6.2f} s "
              f"({first / nodes * 1e6:.2f} us/node); replay {again * 1e3:7.1f} ms; "
              f"{len(program.calls)} chunks ({program.distinct_chunks} distinct)")
        del f, program


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--chain", default="10000,100000,1000000")
    args = parser.parse_args()
    moons(args.steps)
    chain([int(n) for n in args.chain.split(",") if n])


if __name__ == "__main__":
    main()
