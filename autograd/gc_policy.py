"""Keep CPython's cyclic garbage collector from rescanning a large graph again and again.

CPython runs a *full* collection, a visit to every container object alive, each time the
objects that survived the young collections have grown by a quarter. While one graph grows
to a million nodes that is a dozen full passes over it, each slower per node as the graph
outgrows the CPU caches: building a 1,000,000-step chain took 1.7 s, 1.0 s of it in 11
full collections (0.03 s in 2 for a 100,000-step one). They find nothing to free in it:
graph nodes never form reference cycles (a backward rule is a shared function handed its
node, not a closure that refers to it), so reference counting frees a dropped graph alone.

So while at least ``LARGE_GRAPH`` graph nodes are alive, chainrule postpones full
collections by raising the collector's third threshold. An explicit ``gc.collect()``
still collects everything. Once fewer than ``LARGE_GRAPH // 2`` nodes are alive, full
collections come back.

**Young collections, relative to the graph.** A training step's graph is short-lived
on the scale of the step, but not on the collector's: with its first threshold at 700
allocations, a young collection visits every new node of a moons step (6,800 nodes), a
middle one visits them again and moves them to the oldest generation, whose growth then
triggers full collections; 1.9 ms of a 13 ms step went there, for nothing (the nodes
form no cycles). So while a graph of at least ``LARGE_GRAPH // 100`` nodes is alive, the
first threshold is raised to ``YOUNG_PER_NODE`` times the most nodes seen alive (never
above ``YOUNG_CAP``, never lowered while graphs live): a step's graph is then freed
before a collection sees it (the collector counts allocations less deallocations), and a
growing graph is visited by a few young collections, not one per 700 nodes (a 1,000,000-
step chain: 4 collections, 0.06 s, against 8 and 0.16 s with a factor of 2 and a cap of
500,000). Cyclic garbage the program makes meanwhile still goes in young collections,
which come at most that many allocations apart (four times the largest graph's node count,
``YOUNG_CAP`` at most).

Once no graph is alive (fewer than ``_WATCH_BELOW`` nodes at a collection), the program's
own thresholds come back, unless it has set new ones in the meantime, which are then left
alone. ``gc.disable()`` is respected: the policy acts only from inside a collection, and
never turns the collector on or off.

It costs node creation nothing. The number of live graph nodes is the sum of the reference
counts of the registered ``Op`` objects (each node holds one reference to its op) less
the references that are not nodes, read by a ``gc.callbacks`` hook once per collection
(every 700 allocations by default; about 1 µs). Those other references (the registry,
module names) are measured for each op the first time the policy counts with it: when
the first node is recorded, or at the first collection after a new op is registered.
That hook is installed only while graph nodes exist: the first node recorded while it is
out takes node creation's existing slow path, which installs it again. Once no graph is
alive, the interpreter is as the program left it. To turn the policy off, set
``autograd.gc_policy.LARGE_GRAPH`` to ``math.inf`` (both parts scale with it).

While the hook is in, SIGINT's handler is Python's own except inside the hook (see "Ctrl-C
inside the hook" below), so that no Ctrl-C is ever dropped by the collector.

This state is process-wide because the collector and the signal it manages are (the
others are grad mode's and the engine's sweep lock; see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import _thread
import gc
import signal
import sys
import threading
import time
from typing import Any, Optional

from . import grad_mode, ops

LARGE_GRAPH = 100_000  # live graph nodes from which full collections wait
YOUNG_PER_NODE = 4  # the first threshold while graphs live, per node of the largest seen
YOUNG_CAP = 4_000_000  # ... and at most this (cyclic garbage waits at most so long)
_IN_FLIGHT = 2  # references to an op held by frames in the middle of making a node
_WATCH_BELOW = 1_000  # with fewer live nodes than this the hook leaves gc.callbacks
_POSTPONED = 1_000_000_000  # a third threshold no program reaches (~7e12 allocations)
# From 3.14 the collector is incremental, never rescans everything at once, and ignores
# the third threshold, so there is nothing to postpone.
_HAS_FULL_COLLECTIONS = sys.version_info < (3, 14)


class _Policy:
    """What the hook needs between collections (one instance).

    It changes under ``grad_mode.slow_path.lock``, the lock that also guards the count of
    slow-path requests, which the hook's coming and going changes too."""

    def __init__(self) -> None:
        self.watching = False
        self.ops: tuple = ()  # the registered ops counted so far
        self.baseline = 0  # their reference counts that are not graph nodes
        self.program_thresholds: Optional[tuple] = None  # set while ours are in force
        self.our_thresholds: Optional[tuple] = None  # what we set instead


_policy = _Policy()


def live_graph_nodes() -> int:
    """About how many graph nodes (Values made by an operation, not leaves) are alive.

    Exact but for the few references that other code holds to an op for a moment (a
    frame in the middle of making a node holds one or two), and at most two high."""
    if len(_policy.ops) != ops.registered_count():
        _count_new_ops()
    getrefcount = sys.getrefcount
    return max(0, sum(map(getrefcount, _policy.ops)) - _policy.baseline)


def _count_new_ops() -> None:
    # An op registered since the last count is measured now, before (nearly always) any
    # node holds it; ops only ever join the registry, so the earlier ones keep their due.
    every_op = ops.registered_ops()  # kept as _policy.ops, so its references count
    new = list(every_op[len(_policy.ops) :])
    # Counted as live_graph_nodes counts, less the one reference each that ``new`` holds,
    # and less the references that the frames making a node may hold to its op right
    # now (this runs inside node creation): the count may then read a node or two high,
    # never low, so it never hides a node.
    _policy.baseline += sum(map(sys.getrefcount, new)) - len(new) - _IN_FLIGHT
    _policy.ops = every_op


def is_watching() -> bool:
    """True while the hook is in ``gc.callbacks``."""
    return _policy.watching


def is_postponing() -> bool:
    """True while full collections wait because a large graph is alive."""
    ours = _policy.our_thresholds
    return ours is not None and ours[2] == _POSTPONED


def is_adjusting() -> bool:
    """True while the collector runs on thresholds this policy set (young or full)."""
    return _policy.our_thresholds is not None


def wanted_thresholds(live: int, program: tuple, ours: Optional[tuple]) -> tuple:
    """The thresholds for ``live`` graph nodes, given the program's and those in force."""
    young, middle, old = program
    if live * 100 >= LARGE_GRAPH:  # a graph worth keeping out of young collections
        young = max(young, min(YOUNG_CAP, YOUNG_PER_NODE * live),
                    ours[0] if ours is not None else 0)
    postponing = ours is not None and ours[2] == _POSTPONED
    if _HAS_FULL_COLLECTIONS and (live >= LARGE_GRAPH
                                  or postponing and live >= LARGE_GRAPH // 2):
        old = _POSTPONED
    return young, middle, old


def start_watching() -> None:
    """Install the hook (node creation calls this while it is out)."""
    with grad_mode.slow_path.lock:
        if _policy.watching:
            return
        if len(_policy.ops) != ops.registered_count():
            _count_new_ops()
        if _after_collection not in gc.callbacks:  # never twice, even after a Ctrl-C here
            gc.callbacks.append(_after_collection)
        grad_mode.request_slow_path_locked(-1)
        _policy.watching = True
        _take_over_sigint()


# -- Ctrl-C inside the hook -------------------------------------------------------------------
# CPython prints and drops whatever a gc callback raises, so a Ctrl-C landing in the hook
# would be lost. Where it lands inside the hook's work, the hook catches it; where it
# lands on the hook's very first instruction (CPython acts on a pending signal as a
# function starts), nothing in Python can. So while the hook is in, SIGINT's handler is
# Python's own, except that inside the hook it sends the signal again a moment later.
# It is taken over only from Python's default handler, on the main thread, and handed
# back as the hook leaves (or at the next chance, if the hook leaves on another thread).


def _sigint_while_watching(signum: int, frame: Any) -> None:
    caller = frame
    while caller is not None:
        if caller.f_code is _after_collection.__code__:
            _thread.start_new_thread(_interrupt_main_soon, ())
            return
        caller = caller.f_back
    signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _take_over_sigint() -> None:
    if _on_main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _sigint_while_watching)


def _give_back_sigint() -> None:
    if _on_main_thread() and signal.getsignal(signal.SIGINT) is _sigint_while_watching:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _after_collection(phase: str, info: dict) -> None:
    """The gc callback: postpone or resume full collections; leave when graphs are gone."""
    if phase != "stop":
        return
    try:
        _decide()
    except KeyboardInterrupt:
        # Sent again once the callback is over (see "Ctrl-C inside the hook" above). An
        # interrupted decision only leaves the policy late to act: it never touches a
        # gradient, and the next collection decides afresh.
        _thread.start_new_thread(_interrupt_main_soon, ())


def _interrupt_main_soon() -> None:
    # In a thread of its own: a signal sent again from inside the callback would be
    # raised, and dropped, right there. A millisecond later the callback is long over.
    time.sleep(0.001)
    _thread.interrupt_main()


def _decide() -> None:
    lock = grad_mode.slow_path.lock
    if not lock.acquire(blocking=False):
        return  # another thread is changing the policy: the next collection decides
    try:
        _decide_locked()
    finally:
        lock.release()


def _decide_locked() -> None:
    live = live_graph_nodes()
    current = gc.get_threshold()
    if _policy.our_thresholds is not None and current != _policy.our_thresholds:
        # The program set its own thresholds meanwhile: they stay, and count as its own.
        _policy.program_thresholds = _policy.our_thresholds = None
    program = _policy.program_thresholds or current
    if live < _WATCH_BELOW and not is_postponing():
        wanted = program  # no graph left: the program's own settings come back
    else:
        wanted = wanted_thresholds(live, program, _policy.our_thresholds)
    if wanted == program:
        if _policy.our_thresholds is not None:
            gc.set_threshold(*program)
            _policy.program_thresholds = _policy.our_thresholds = None
    elif wanted != _policy.our_thresholds:
        _policy.program_thresholds = program
        _policy.our_thresholds = wanted
        gc.set_threshold(*wanted)
    if live < _WATCH_BELOW and _policy.our_thresholds is None:
        _stop_watching()


def _stop_watching() -> None:
    # CPython walks gc.callbacks by index while calling them: removing any hook but the
    # last would make the hook after it miss this call. If not last, stay for now.
    callbacks = gc.callbacks
    if callbacks and callbacks[-1] is _after_collection:
        # These three must agree, or the hook would stay out for good (or the slow path
        # on). So: one line, which a trace function (raising where a line starts)
        # cannot split, and the one call that can be interrupted on entry comes first;
        # a signal is otherwise acted on only after a call, and pop() is the last.
        grad_mode.request_slow_path_locked(+1); _policy.watching = False; callbacks.pop()  # noqa: E702
        _give_back_sigint()
