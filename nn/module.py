"""``Module``: the base class every layer and model builds on.

A module computes ``forward(...)`` when called, as in PyTorch: a subclass defines
``forward`` and callers write ``model(x)``. It owns parameters (``Value`` leaves the
optimizer updates), child modules and, optionally, buffers (plain floats that belong in
a checkpoint but receive no gradient, such as BatchNorm's running statistics).

Discovery is explicit and deterministic, with no metaclass and no registration calls:
the public attributes of a module are read in assignment order, and an attribute counts
when it is

* a ``Module`` (a child, named ``attr``),
* a ``Value`` (a parameter, named ``attr``),
* a list or tuple, possibly nested, holding Modules and Values (named ``attr.0``,
  ``attr.0.1``, ...; other items are ignored).

A module's own Values come first, then each child's parameters, depth first.

Buffers are the attributes named in the class attribute ``buffer_names``; each is a list
of floats, saved as ``attr.0``, ``attr.1``, ... Names join with dots down the tree, so a
weight reads ``layers.0.neurons.3.w.1``. A Value or Module reachable by two paths (a
shared weight) is listed once, under the first name, as PyTorch does.

Reference: PyTorch, ``torch.nn.Module`` (forward via ``__call__``, named_parameters,
children and modules, train/eval, state_dict, the printed tree).
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Mapping

from autograd import Value

from ._checks import first_names, mismatched_keys, shorten

__all__ = ["Module"]


def _walk(prefix: str, obj: object) -> Iterator[tuple[str, object]]:
    """(name, item) for every Module or Value inside ``obj``, a list or tuple, in order."""
    for i, item in enumerate(obj):  # type: ignore[call-overload]
        name = f"{prefix}.{i}"
        if isinstance(item, (Module, Value)):
            yield name, item
        elif isinstance(item, (list, tuple)):
            yield from _walk(name, item)


def _is_finite_number(value: object) -> bool:
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is int:
        try:
            float(value)
        except OverflowError:
            return False
        return True
    return False


def _refuse_a_checkpoint(state: Mapping) -> None:
    """ValueError when ``state`` holds dicts: a checkpoint, not a state dict.

    Loading does not guess which entry is the model (a checkpoint may hold two, or an
    optimizer alone); the message gives the line that loads the entry meant.
    """
    parts = [key for key, value in state.items() if isinstance(value, Mapping)]
    if not parts:
        return
    key = next((k for k in ("model", "state_dict") if k in parts), parts[0])
    listed = ", ".join(shorten(repr(k), 24) for k in parts[:3]) + (", ..." if parts[3:] else "")
    index = f'"{shorten(key)}"' if isinstance(key, str) else shorten(repr(key))
    raise ValueError(
        f"load_state_dict: got a checkpoint (its entries {listed} hold dicts), not a "
        f"state dict of name -> number; load the model's part: "
        f"model.load_state_dict(checkpoint[{index}])"
    )


class Module:
    """Base class: parameters, children, train/eval mode and state dicts.

    Subclasses assign their Values, child Modules and lists of them as public attributes
    in ``__init__`` and define ``forward``; calling the module runs it. (A subclass may
    define ``__call__`` itself instead, as ``nn.RNN`` does.) The set of parameters is fixed
    once the module is built: ``parameters()`` caches the list on its first call.
    """

    #: Whether the module is in training mode; ``train()`` and ``eval()`` set it.
    training: bool = True
    #: Attributes holding lists of floats to save with the parameters (see ``state_dict``).
    buffer_names: tuple[str, ...] = ()

    # -- calling -----------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``self.forward(*args, **kwargs)``: call the module, as in PyTorch."""
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What calling the module computes; every subclass defines its own."""
        raise NotImplementedError(
            f"{type(self).__name__} defines no forward(): add a method "
            f"forward(self, x) to {type(self).__name__} returning the module's output, "
            "as in PyTorch; model(x) then calls it"
        )

    # -- structure ---------------------------------------------------------------------

    def _child_members(self) -> list[tuple[str, Module]]:
        """Every (name, child) held directly, a child held twice under each name."""
        return [(name, item) for name, item in self._members() if isinstance(item, Module)]

    def named_children(self) -> list[tuple[str, Module]]:
        """The direct child modules with their names (``layers.0``, ``cell``, ``0``, ...),
        each once, under the first name it is held by (as PyTorch's)."""
        named: list[tuple[str, Module]] = []
        seen: set[int] = set()
        for name, child in self._child_members():
            if id(child) not in seen:
                seen.add(id(child))
                named.append((name, child))
        return named

    def children(self) -> list[Module]:
        """The direct child modules, in the order of ``named_children()``."""
        return [child for _, child in self.named_children()]

    def _members(self) -> Iterator[tuple[str, object]]:
        """Every Module and Value held directly by this module, named, in order."""
        for attr, obj in vars(self).items():
            if attr.startswith("_"):
                continue
            if isinstance(obj, (Module, Value)):
                yield attr, obj
            elif isinstance(obj, (list, tuple)):
                yield from _walk(attr, obj)

    def modules(self) -> list[Module]:
        """This module and all its descendants, depth first (parents first), each once."""
        found: list[Module] = []
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            found.append(module)
            stack.extend(reversed(module.children()))
        return found

    def named_modules(self) -> list[tuple[str, Module]]:
        """``(name, module)`` for this module (named ``""``) and every descendant, in the
        order of ``modules()``, each under the first dotted name it is reached by
        (``"layers.0"``, ``"layers.0.neurons.3"``; ``"0"``, ``"2"`` in a Sequential)."""
        return [(prefix[:-1], module) for prefix, module in self._prefixed_modules()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in a stable order, each Value once."""
        named: list[tuple[str, Value]] = []
        seen: set[int] = set()  # Values and Modules already visited
        # An explicit stack of (prefix, module) keeps deep models free of recursion limits.
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            pending = []
            for name, item in module._members():
                if isinstance(item, Value):
                    if id(item) not in seen:
                        seen.add(id(item))
                        named.append((prefix + name, item))
                else:
                    # Children are visited after this module's own Values, in order.
                    pending.append((prefix + name + ".", item))
            stack.extend(reversed(pending))
        return named

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of ``named_parameters()`` (a new list each call)."""
        cache = self.__dict__.get("_parameters")
        if cache is None:
            cache = [p for _, p in self.named_parameters()]
            self._parameters = cache
        return list(cache)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0 (gradients accumulate otherwise)."""
        for p in self.parameters():
            p.grad = 0.0

    # -- modes -------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Put this module and every descendant in training mode (or eval if ``mode`` is
        False). Returns the module."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) needs a bool, got {type(mode).__name__}: {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Put this module and every descendant in evaluation mode. Returns the module."""
        return self.train(False)

    # -- state -------------------------------------------------------------------------

    def _prefixed_modules(self) -> list[tuple[str, Module]]:
        """(prefix, module) for this module (prefix "") and every descendant, each under
        the first name it is reached by (``layers.0.``), depth first."""
        named: list[tuple[str, Module]] = []
        prefixes = {id(self): ""}
        for module in self.modules():
            prefix = prefixes[id(module)]
            named.append((prefix, module))
            for name, child in module._child_members():
                prefixes.setdefault(id(child), f"{prefix}{name}.")
        return named

    def _named_buffers(self) -> list[tuple[str, list, int]]:
        """(name, list, index) for every buffer entry, so loading can write it in place."""
        entries: list[tuple[str, list, int]] = []
        for prefix, module in self._prefixed_modules():
            for attr in module.buffer_names:
                values = getattr(module, attr)
                entries.extend((f"{prefix}{attr}.{i}", values, i) for i in range(len(values)))
        return entries

    def _check_state(self, state: Mapping[str, float], prefix: str) -> None:
        """Refuse, with a ValueError naming the entry, values this module cannot use.

        ``load_state_dict`` calls it on every module before anything changes, once the
        names and finite numbers are checked; this module's entries are
        ``state[prefix + name]`` (``prefix`` is ``""`` or like ``"layers.0."``). The
        default accepts everything; BatchNorm1d refuses negative variances.
        """

    def state_dict(self) -> dict[str, float]:
        """``{name: float}`` for every parameter, then every buffer entry, in order."""
        state = {name: p.data for name, p in self.named_parameters()}
        for name, values, i in self._named_buffers():
            state[name] = float(values[i])
        return state

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Copy ``state`` (as made by ``state_dict()``) into the parameters and buffers.

        Everything is checked before anything changes: the names must match exactly,
        every value must be a finite int or float (not a bool), and each module's
        ``_check_state`` must accept its entries. On a mismatch a ValueError says how many
        names are missing and unexpected, shows the first few of each, and the module is
        left untouched. A checkpoint dict (``{"model": {...}, "optimizer": {...}}``, as
        ``nn.load`` returns it) is refused with the line that loads its model part.
        """
        if not isinstance(state, Mapping):
            raise ValueError(
                f"load_state_dict needs a dict of name -> number, got {type(state).__name__}"
            )
        _refuse_a_checkpoint(state)
        params = self.named_parameters()
        buffers = self._named_buffers()
        expected = [name for name, _ in params] + [name for name, _, _ in buffers]
        missing, unexpected = mismatched_keys(state, expected)
        if missing or unexpected:
            # Counts and the first few names: a whole list of 337 would be unreadable.
            raise ValueError(
                f"load_state_dict: state does not match {shorten(type(self).__name__)} "
                f"({len(state)} entries given, {len(expected)} expected); "
                f"missing: {first_names(missing)}; unexpected: {first_names(unexpected)}"
            )
        for name in expected:
            value = state[name]
            if not _is_finite_number(value):
                raise ValueError(
                    f"load_state_dict: {shorten(name, 60)} must be a finite int or float, "
                    f"got {type(value).__name__}: {shorten(repr(value))}"
                )
        for prefix, module in self._prefixed_modules():
            module._check_state(state, prefix)
        for name, p in params:
            p.data = float(state[name])
        for name, values, i in buffers:
            values[i] = float(state[name])

    # -- display -----------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text between the parentheses of this module's one-line description."""
        return f"{len(self.parameters())} parameters"

    def __repr__(self) -> str:
        return "\n".join(self._repr_lines(set()))

    def _repr_lines(self, shown: set) -> list[str]:
        # PyTorch's layout: "Name(extra)" for a leaf module; otherwise "Name(", the extra
        # text and one "(name): ..." entry per child, indented, then ")". ``shown`` holds
        # the modules already printed, so shared children and cycles stop.
        shown.add(id(self))
        extra = self.extra_repr()
        children = self._child_members()
        if not children:
            return [f"{type(self).__name__}({extra})"]
        lines = [f"{type(self).__name__}("]
        lines.extend("  " + line for line in extra.splitlines())
        for name, child in children:
            if id(child) in shown:
                child_lines = [f"{type(child).__name__}(...)  # shown above"]
            elif type(child).__repr__ is Module.__repr__:
                child_lines = child._repr_lines(shown)
            else:
                child_lines = repr(child).splitlines()
            lines.append(f"  ({name}): {child_lines[0]}")
            lines.extend("  " + line for line in child_lines[1:])
        lines.append(")")
        return lines
