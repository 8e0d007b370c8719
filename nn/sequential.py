"""``Sequential``: modules applied one after another, named ``0``, ``1``, ... as in PyTorch.

``Sequential(Linear(2, 16), ReLU(), Linear(16, 1))`` feeds each module's output to the
next. Its children are named by position, so its state dict reads ``0.weight.0.0``,
``0.bias.0``, ``2.weight.0.0``, ... (PyTorch's names with the scalar index appended).
Indexing is by position; a slice is a new Sequential of the same modules (sharing their
parameters) that keeps their names, as PyTorch's does.

Reference: PyTorch ``torch.nn.Sequential``.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence, Union

from .module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """A chain of modules: ``seq(x)`` is ``modules[-1](...modules[1](modules[0](x)))``.

    ``len(seq)``, ``seq[i]`` (negative ``i`` counts from the end), ``seq[i:j]`` (a
    Sequential) and ``for module in seq`` work as on a list. An empty Sequential returns
    its input. Raises TypeError when an argument is not a Module.
    """

    def __init__(self, *modules: Module) -> None:
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                hint = (
                    "; pass the modules as separate arguments: Sequential(*modules)"
                    if isinstance(module, (list, tuple))
                    else ""
                )
                raise TypeError(
                    f"Sequential: argument {i} is a {type(module).__name__}, "
                    f"not an nn.Module{hint}"
                )
        self._named = [(str(i), module) for i, module in enumerate(modules)]

    @classmethod
    def _from_named(cls, named: Sequence[tuple[str, Module]]) -> Sequential:
        seq = cls()
        seq._named = list(named)
        return seq

    def _members(self) -> Iterator[tuple[str, object]]:
        # Children are named by position ("0", "1", ...), not by attribute.
        return iter(self._named)

    def forward(self, x: Any) -> Any:
        """Each module applied in turn to the previous one's output."""
        for _, module in self._named:
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._named)

    def __iter__(self) -> Iterator[Module]:
        return (module for _, module in self._named)

    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, slice):
            return Sequential._from_named(self._named[index])
        if type(index) is not int:
            raise TypeError(
                f"Sequential indices must be ints or slices, got {type(index).__name__}"
            )
        n = len(self._named)
        if not -n <= index < n:
            raise IndexError(f"Sequential index {index} is out of range for {n} modules")
        return self._named[index][1]

    def extra_repr(self) -> str:
        return ""
