"""Backpropagation through time with and without checkpointing: peak memory and time.

An ``RNN(1, 16)`` over T steps of one input each, loss = the sum of squares of the last
hidden state (or of every hidden state), forward + backward + dropping the graph:

* peak memory: ``tracemalloc``'s peak over one run (forward and backward), the same
  method as the chain's bytes per node (``workloads.chain_memory``);
* time: separate runs without tracemalloc (it slows allocation several fold), the median
  of a few, each after ``gc.collect()``, with the collector on as users run it.

With a loss on the last state only, a run with ``checkpoint=k`` keeps T/k segment nodes
and one segment's recomputed graph (k steps) at a time, so its peak grows like
T/k + k, least near k = sqrt(T). With a loss on every step the graph must keep every
hidden state for the loss; checkpointing still drops each step's dot nodes (the
pre-activations, whose parents tuples are most of a step's bytes), but not the states.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc
from typing import Optional

import autograd
import nn

NIN, NHIDDEN = 1, 16


def sequence(steps: int, seed: int = 1) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1.0, 1.0) for _ in range(NIN)] for _ in range(steps)]


def model(seed: int = 0) -> nn.RNN:
    return nn.RNN(NIN, NHIDDEN, rng=random.Random(seed))


def bptt(rnn: nn.RNN, xs: list, checkpoint: Optional[int], every_step: bool) -> list[float]:
    """Forward, loss, backward, drop the graph; returns the parameters' gradients."""
    rnn.zero_grad()
    hs, h = rnn(xs, checkpoint=checkpoint)
    states = hs if every_step else [h]
    loss = autograd.sum([v * v for h_t in states for v in h_t])
    del hs, h, states
    loss.backward()
    del loss
    return [p.grad for p in rnn.parameters()]


def peak_bytes(rnn: nn.RNN, xs: list, checkpoint: Optional[int], every_step: bool) -> int:
    """tracemalloc's peak over one forward + backward."""
    gc.collect()
    tracemalloc.start()
    try:
        bptt(rnn, xs, checkpoint, every_step)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def seconds(rnn: nn.RNN, xs: list, checkpoint: Optional[int], every_step: bool,
            repeats: int) -> float:
    """The median time of ``repeats`` forward + backward + drop runs."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        bptt(rnn, xs, checkpoint, every_step)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(steps: int, every: int, curve: tuple, repeats: int) -> dict:
    """Every number of the checkpointing rows: bytes, seconds, and the k curve."""
    rnn, xs = model(), sequence(steps)
    bptt(rnn, sequence(min(steps, 200)), every, False)  # warm-up, untimed
    bptt(rnn, sequence(min(steps, 200)), None, False)
    r: dict = {"ckpt_steps": steps, "ckpt_every": every}
    plain = bptt(rnn, xs, None, False)
    assert bptt(rnn, xs, every, False) == plain, "checkpointed gradients differ"
    for loss, every_step in (("last", False), ("all", True)):
        r[f"ckpt_{loss}_plain_bytes"] = peak_bytes(rnn, xs, None, every_step)
        r[f"ckpt_{loss}_bytes"] = peak_bytes(rnn, xs, every, every_step)
        # alternate the two, so drifts in machine speed hit both alike
        plain_times, ckpt_times = [], []
        for _ in range(repeats):
            plain_times.append(seconds(rnn, xs, None, every_step, 1))
            ckpt_times.append(seconds(rnn, xs, every, every_step, 1))
        r[f"ckpt_{loss}_plain_s"] = statistics.median(plain_times)
        r[f"ckpt_{loss}_s"] = statistics.median(ckpt_times)
    r["ckpt_curve"] = [
        (k, peak_bytes(rnn, xs, k, False), seconds(rnn, xs, k, False, 1)) for k in curve
    ]
    return r


def ratios(r: dict) -> dict:
    return {
        "ckpt_last_memory_fraction": r["ckpt_last_bytes"] / r["ckpt_last_plain_bytes"],
        "ckpt_last_time_ratio": r["ckpt_last_s"] / r["ckpt_last_plain_s"],
        "ckpt_all_memory_fraction": r["ckpt_all_bytes"] / r["ckpt_all_plain_bytes"],
        "ckpt_all_time_ratio": r["ckpt_all_s"] / r["ckpt_all_plain_s"],
    }


def curve_table(r: dict) -> str:
    """The sqrt(T) curve: peak memory and time for each segment length k."""
    steps = r["ckpt_steps"]
    plain_bytes, plain_s = r["ckpt_last_plain_bytes"], r["ckpt_last_plain_s"]
    lines = [f"checkpoint=k, RNN({NIN}, {NHIDDEN}) over {steps:,} steps, loss on the last state "
             f"(plain: {plain_bytes / 1e6:.1f} MB, {plain_s:.2f} s)",
             f"{'k':>6}  {'peak':>9}  {'/ plain':>7}  {'time':>7}  {'/ plain':>7}"]
    for k, peak, seconds_k in r["ckpt_curve"]:
        lines.append(f"{k:>6}  {peak / 1e6:>6.2f} MB  {peak / plain_bytes:>7.3f}  "
                     f"{seconds_k:>5.2f} s  {seconds_k / plain_s:>6.2f}x")
    return "\n".join(lines)
