"""Recurrent layers: ``RNNCell`` (one time step) and ``RNN`` (the cell unrolled over a sequence).

One step, in the row-vector convention of the mini-batch derivation:

    h_t = act(x_t W_xh + h_{t-1} W_hh + b)        x_t: nin,  h_t: nhidden

Hidden unit j is one ``autograd.dot`` node over the concatenation [x_t, h_{t-1}] against
column j of W_xh stacked on column j of W_hh, with bias b[j], plus one activation node.

Backpropagation through time needs no code of its own. ``RNN`` calls the same cell, and
so the same parameter Values, at every step; ``backward()`` then adds each step's share
into them, which is the textbook sum

    dL/dW = sum_t sum_{k <= t} dL/dh_t (prod_{j = k+1..t} dh_j/dh_{j-1}) d+h_k/dW

(d+ the direct dependence of step k on W). The product of Jacobians
dh_j/dh_{j-1} = diag(act'(.)) W_hh^T is why gradients vanish or explode with powers of
W_hh; ``hidden_grad_norms`` measures it after ``backward()``.

Truncated BPTT (``truncate=k``) cuts the graph every k steps: the hidden state entering
steps k, 2k, ... is replaced by ``h.detach()`` (the same numbers, no history), so each
chunk's gradient stays inside the chunk while the forward values are unchanged.

Checkpointed BPTT (``checkpoint=k``) keeps the gradient whole but not the graph: each
run of k steps is one ``autograd.checkpoint`` segment, so the graph alive for backward
holds a segment node and the last state per segment, and backward recomputes one
segment at a time; memory grows like T/k + k instead of T (least near k = sqrt(T)), for
about one more forward pass, with gradients bit-identical to the plain run.

References: Elman 1990, "Finding Structure in Time"; Werbos 1990, "Backpropagation
Through Time: What It Does and How to Do It"; Pascanu, Mikolov & Bengio 2013, "On the
difficulty of training recurrent neural networks"; PyTorch ``torch.nn.RNN`` (the
U(-1/sqrt(nhidden), 1/sqrt(nhidden)) initialisation).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence as SequenceABC
from operator import mul
from typing import Any, Optional, Sequence, Union

import autograd
from autograd import Value, data_of

from ._checks import check_choice, check_size
from .layers import ACTIVATIONS, FLOAT_ACTIVATIONS, _as_floats
from .module import Module

__all__ = ["RNNCell", "RNN", "CheckpointedStates", "hidden_grad_norms"]

Vector = Sequence[Union[Value, float]]

_matvec = autograd.matvec
_checkpoint = autograd.checkpoint
_recording = autograd.is_grad_enabled


def _length(what: str, vector: object, expected: int) -> int:
    """len(vector), or a ValueError saying a list of ``expected`` values was wanted."""
    kind = type(vector)
    if kind is list or kind is tuple:
        # hot: isinstance(x, Sequence) goes through ABCMeta; called once per step, it was
        # 6% of the RNN's no_grad forward on a batch.
        return len(vector)
    if isinstance(vector, (str, bytes)) or not isinstance(vector, Sequence):
        raise ValueError(
            f"{what} is {vector!r}, not a list of {expected} Values or numbers"
        )
    return len(vector)


def _as_values(vector: Vector) -> list[Value]:
    # Plain numbers become leaves, so every dot node sees Values only and takes the
    # fast path (a list mixing Values and floats takes dot's slower general path).
    return [v if type(v) is Value else Value(v) for v in vector]


class RNNCell(Module):
    """One recurrent step: ``h = act(x W_xh + h_prev W_hh + b)``.

    Parameters (nested lists of Values, named ``W_xh.i.j``, ``W_hh.i.j``, ``b.j``):
    ``W_xh`` is nin x nhidden, ``W_hh`` nhidden x nhidden and ``b`` has nhidden entries,
    ``nin*nhidden + nhidden*nhidden + nhidden`` in all. Every one starts from
    U(-1/sqrt(nhidden), 1/sqrt(nhidden)), as PyTorch's RNN does, drawn from ``rng`` (a
    ``random.Random``; None uses the global ``random`` module) in the order W_xh, W_hh,
    b, row by row. ``activation`` is ``"tanh"`` (the default), ``"relu"``, ``"sigmoid"``
    or ``"linear"``, as for ``nn.Neuron``.

    ``cell(x, h=None)`` takes an input vector of ``nin`` Values or numbers and the
    previous hidden state (``nhidden`` Values or numbers; zeros when None) and returns
    the new hidden state, a list of ``nhidden`` Values.
    """

    def __init__(
        self,
        nin: int,
        nhidden: int,
        activation: str = "tanh",
        rng: Optional[random.Random] = None,
    ) -> None:
        self.nin = check_size("RNNCell: nin", nin)
        self.nhidden = check_size("RNNCell: nhidden", nhidden)
        check_choice("RNNCell: activation", activation, ACTIVATIONS)
        self.activation = activation
        self._act = ACTIVATIONS[activation]
        self._float_act = FLOAT_ACTIVATIONS[activation]
        bound = 1.0 / math.sqrt(nhidden)
        uniform = (rng if rng is not None else random).uniform

        def draw(rows: int, cols: int) -> list[list[Value]]:
            return [[Value(uniform(-bound, bound)) for _ in range(cols)] for _ in range(rows)]

        self.W_xh = draw(nin, nhidden)
        self.W_hh = draw(nhidden, nhidden)
        self.b = [Value(uniform(-bound, bound)) for _ in range(nhidden)]
        # Unit j reads column j of W_xh stacked on column j of W_hh, against [x, h_prev]:
        # the same Value objects, gathered once so a step is a single matvec.
        self._columns = [
            [row[j] for row in self.W_xh] + [row[j] for row in self.W_hh]
            for j in range(nhidden)
        ]

    def __call__(self, x: Vector, h: Optional[Vector] = None) -> list[Value]:
        """The next hidden state from input ``x`` (nin) and hidden state ``h`` (nhidden)."""
        n = _length("RNNCell: x", x, self.nin)
        if n != self.nin:
            raise ValueError(f"RNNCell: x has length {n}, expected nin={self.nin}")
        if h is None:
            h_values = [Value(0.0) for _ in range(self.nhidden)]
        else:
            n = _length("RNNCell: h", h, self.nhidden)
            if n != self.nhidden:
                raise ValueError(
                    f"RNNCell: h has length {n}, expected nhidden={self.nhidden}"
                )
            h_values = _as_values(h)
        return self._step(_as_values(x), h_values)

    def _step(self, x: list[Value], h: list[Value]) -> list[Value]:
        # x: nin Values, h: nhidden Values -> nhidden Values; no checks (callers do them).
        pre = _matvec(self._columns, x + h, self.b)  # nhidden dot nodes
        act = self._act
        return pre if act is None else [act(v) for v in pre]

    def read_floats(self) -> tuple[list[list[float]], list[float]]:
        """A snapshot of the columns (one per hidden unit) and biases as floats."""
        return [data_of(column) for column in self._columns], data_of(self.b)

    def _steps_floats(self, xs: list[list], h: list[float]) -> list[list[float]]:
        """Every step on plain floats: what the dot and activation nodes would hold.

        Inference under ``no_grad``: the same arithmetic in the same order as each dot
        node (``matvec``'s sum of products, then the bias) and the activation's
        ``autograd.floatmath`` formula, so the numbers are identical to the recording
        forward, with no Value made per unit and step.
        """
        columns, biases = self.read_floats()
        act = self._float_act
        hs = []
        for x in xs:
            xh = x + h
            h = [sum(map(mul, column, xh)) + b for column, b in zip(columns, biases)]
            if act is not None:
                h = list(map(act, h))
            hs.append(h)
        return hs

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nhidden={self.nhidden}, activation={self.activation!r}"


class RNN(Module):
    """An ``RNNCell`` unrolled over a sequence: ``hs, h = rnn(xs, h0=None, truncate=None,
    checkpoint=None)``.

    ``xs`` is a list of T >= 1 input vectors (each ``nin`` Values or numbers); ``hs`` is
    the list of the T hidden states (each a list of ``nhidden`` Values) and ``h`` the last
    one, ``hs[-1]``. ``h0`` is the starting hidden state (zeros when None). ``rnn.cell``
    is the one cell every step uses, so its parameters are the RNN's parameters and
    ``backward()`` sums their gradients over time (backpropagation through time).

    ``truncate=k`` (a positive int) gives truncated BPTT: the hidden state entering steps
    k, 2k, ... is detached (same numbers, history cut), so no gradient crosses from one
    chunk of k steps into an earlier one. ``h0`` enters step 0, not a chunk boundary, so
    it keeps the gradient of the first chunk; pass ``h.detach()`` values to cut it too.
    The returned ``hs`` are the cell's outputs themselves, not the detached copies, so
    after ``backward()`` each holds dL/dh_t (see ``hidden_grad_norms``).

    ``checkpoint=k`` (a positive int) cuts the steps into segments of k (a segment also
    ends where ``truncate`` cuts), each an ``autograd.checkpoint``: the same numbers and
    bit-identical gradients, with only each segment's last state kept for backward. ``hs``
    is then a ``CheckpointedStates`` sequence that makes each h_t when first read: read
    the states a loss needs before ``backward()`` (a loss on every step keeps every state
    alive, as it must); the states nobody reads cost nothing.

    Under ``no_grad`` the steps run on plain floats (``forward_floats``), with numbers
    identical to the recording forward's, and the states come back as leaf Values.
    """

    def __init__(
        self,
        nin: int,
        nhidden: int,
        activation: str = "tanh",
        rng: Optional[random.Random] = None,
    ) -> None:
        self.cell = RNNCell(nin, nhidden, activation, rng)

    @property
    def nin(self) -> int:
        return self.cell.nin

    @property
    def nhidden(self) -> int:
        return self.cell.nhidden

    @property
    def activation(self) -> str:
        return self.cell.activation

    def __call__(
        self,
        xs: Sequence[Vector],
        h0: Optional[Vector] = None,
        truncate: Optional[int] = None,
        checkpoint: Optional[int] = None,
    ) -> tuple[Sequence[list[Value]], list[Value]]:
        """Run the cell over ``xs``; returns ``(hs, h)`` (see the class docstring)."""
        if truncate is not None and (type(truncate) is not int or truncate < 1):
            raise ValueError(
                f"RNN: truncate must be None or a positive int (steps per chunk), "
                f"got {truncate!r}"
            )
        if checkpoint is not None and (type(checkpoint) is not int or checkpoint < 1):
            raise ValueError(
                f"RNN: checkpoint must be None or a positive int (steps per segment), "
                f"got {checkpoint!r}"
            )
        self._check(xs, h0)
        if not _recording():
            # Inference: plain floats from step to step, Values only at the end.
            hs_values = [[Value(v) for v in h_t] for h_t in self._floats(xs, h0)]
            return hs_values, hs_values[-1]
        nhidden = self.cell.nhidden
        h = [Value(0.0) for _ in range(nhidden)] if h0 is None else _as_values(h0)
        if checkpoint is not None:
            return self._checkpointed(xs, h, truncate, checkpoint)

        step = self.cell._step
        hs = []
        for t, x in enumerate(xs):
            if truncate is not None and t and t % truncate == 0:
                h = [v.detach() for v in h]  # chunk boundary: same numbers, no history
            h = step(_as_values(x), h)
            hs.append(h)
        return hs, h

    def _checkpointed(
        self, xs: Sequence[Vector], h: list[Value], truncate: Optional[int], every: int
    ) -> tuple["CheckpointedStates", list[Value]]:
        # Segments of ``every`` steps, each one autograd.checkpoint: the graph keeps a
        # segment node and the last state of each segment, and backward recomputes one
        # segment at a time. The steps inside run exactly as in the loop above.
        step = self.cell._step

        def run(h: list[Value], xs_segment: tuple) -> list:
            # No truncation cut falls inside a segment (segments start at every cut,
            # where h arrives detached), so this is the plain loop's body.
            states = []
            for x in xs_segment:
                h = step(list(x), h)
                states.append(h)
            return states

        values = [tuple(_as_values(x)) for x in xs]  # tuples: kept by the segments as is
        # A segment also ends where truncation cuts the graph: a segment holding parts of
        # two truncation chunks would be swept in one go, while the plain sweep reaches
        # the two chunks at different times, and shared parameters would then receive
        # their terms in another order (equal to rounding, not bit for bit).
        starts = set(range(0, len(values), every))
        if truncate is not None:
            starts.update(range(truncate, len(values), truncate))
        bounds = sorted(starts) + [len(values)]
        # The leaves run reads besides its args: the cell's parameters. Named, they spare
        # each segment the walk of its first run that would find them.
        reads = self.cell.parameters()
        segments = []
        for first, end in zip(bounds, bounds[1:]):
            label = f"RNN steps {first}-{end - 1}"
            if truncate is not None and first and first % truncate == 0:
                h = [v.detach() for v in h]  # a cut: the plain loop detaches here too
            segment = _checkpoint(run, h, tuple(values[first:end]), label=label,
                                  lazy=True, reads=reads)
            segments.append((first, segment))
            h = segment[-1]
        return CheckpointedStates(segments, len(values)), h

    def _check(self, xs: Sequence[Vector], h0: Optional[Vector]) -> None:
        # Check every step before building anything, so a bad sequence makes no graph.
        nin, nhidden = self.cell.nin, self.cell.nhidden
        if type(xs) is not list and (isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence)):
            raise ValueError(
                f"RNN: xs must be a list of input vectors (each {nin} Values or numbers), "
                f"got {type(xs).__name__}"
            )
        if not xs:
            raise ValueError(
                f"RNN: xs is empty; pass a list of at least one input vector of length {nin}"
            )
        for t, x in enumerate(xs):
            n = _length(f"RNN: xs[{t}] (step {t})", x, nin)
            if n != nin:
                raise ValueError(
                    f"RNN: xs[{t}] (step {t}) has length {n}, expected nin={nin}"
                )
        if h0 is not None:
            n = _length("RNN: h0", h0, nhidden)
            if n != nhidden:
                raise ValueError(f"RNN: h0 has length {n}, expected nhidden={nhidden}")

    def forward_floats(
        self, xs: Sequence[Vector], h0: Optional[Vector] = None
    ) -> list[list[float]]:
        """The hidden states on plain floats: what ``rnn(xs, h0)`` would hold, no Values.

        The numbers are identical to the recording forward's (the same arithmetic in
        the same order); ``__call__`` under ``no_grad`` uses it, and so can a model that
        reads the states on (``nn.examples.binary_addition.Adder``).
        """
        self._check(xs, h0)
        return self._floats(xs, h0)

    def _floats(self, xs: Sequence[Vector], h0: Optional[Vector]) -> list[list[float]]:
        h = [0.0] * self.cell.nhidden if h0 is None else _as_floats("RNN: h0", h0)
        return self.cell._steps_floats([_as_floats("RNN: xs", x) for x in xs], h)

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nhidden={self.nhidden}, activation={self.activation!r}"


class CheckpointedStates(SequenceABC):
    """The hidden states of a checkpointed ``RNN`` call: ``hs[t]`` is h_t, as a list.

    A read-only sequence over the segments' outputs: h_t is made the first time it is
    read (then kept), so states nobody reads cost no memory, and the graph keeps only
    each segment's last state. Read every state (a loss on every step) and every one
    stays alive, as without checkpointing. A state read after ``backward()`` has no
    gradient: read the ones you want before it (their ``.grad`` then holds dL/dh_t, as
    without checkpointing).
    """

    def __init__(self, segments: list, length: int) -> None:
        self._segments = segments  # (first step, the segment's LazyOutputs), in order
        self._firsts = [first for first, _ in segments]
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, t: object) -> Any:
        if isinstance(t, slice):
            return [self[i] for i in range(*t.indices(self._length))]
        if type(t) is not int:
            raise TypeError(f"RNN states: index must be an int or a slice, got {t!r}")
        if t < 0:
            t += self._length
        if not 0 <= t < self._length:
            raise IndexError(f"RNN states: step {t} out of range for {self._length} steps")
        first, segment = self._segments[bisect_right(self._firsts, t) - 1]
        return segment[t - first]

    def __repr__(self) -> str:
        return f"CheckpointedStates({self._length} steps in {len(self._segments)} segments)"


def hidden_grad_norms(hs: Sequence[Sequence[Value]]) -> list[float]:
    """[||dL/dh_t|| for each step t]: the L2 norm of each hidden state's gradients.

    Call it after ``loss.backward()`` on the ``hs`` an ``RNN`` returned: each hidden Value
    then holds dL/dh_t (gradients accumulate, so zero them between backward passes).
    With a loss on the last step only, dL/dh_{t-1} = dL/dh_t diag(act') W_hh^T, so the
    norms shrink going back in time when W_hh is small and grow when it is large.
    """
    norms = []
    for t, h in enumerate(hs):
        if isinstance(h, Value) or not isinstance(h, Sequence):
            raise ValueError(
                f"hidden_grad_norms: hs[{t}] is {h!r}, not a list of Values; pass the hs "
                "an RNN returned"
            )
        norms.append(math.hypot(*[v.grad for v in h]))
    return norms
