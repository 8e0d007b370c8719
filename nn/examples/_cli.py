"""The command line the runnable examples share: ``nn.demo`` and ``nn.examples.*``.

Each takes ``--steps`` (a positive int) and ``--seed``, says what to install when an
optional package is missing, and shows training in a tqdm bar. An example builds its
parser here, adds its own flags, and passes ``progress_bar``'s callback to ``train``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

__all__ = ["INSTALL", "add_positive_int", "parser", "report_missing", "progress_bar"]

INSTALL = "`pip install -e '.[demo]'` in your environment"

Callback = Callable[[int, float, float], None]


def _positive_int(text: str) -> int:
    # argparse names this function in "invalid _positive_int value: 'x'" errors.
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def add_positive_int(parser: argparse.ArgumentParser, flag: str, default: int, help: str) -> None:
    """Add option ``flag`` to ``parser``: an int of at least 1, else exit status 2."""
    parser.add_argument(flag, type=_positive_int, default=default, help=help)


def parser(module: str, description: str, steps: int) -> argparse.ArgumentParser:
    """A parser for ``python -m module`` with ``--steps`` (default ``steps``) and ``--seed``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    add_positive_int(parser, "--steps", steps, "training steps")
    parser.add_argument("--seed", type=int, default=0, help="data and initialisation seed")
    return parser


def report_missing(module: str, packages: Sequence[str], remedy: str = INSTALL) -> bool:
    """If one of ``packages`` will not import, say so and ``remedy`` on stderr; return True."""
    try:
        for name in packages:
            importlib.import_module(name)
    except ImportError as error:
        print(f"{module} needs {' and '.join(packages)} ({error}); {remedy}", file=sys.stderr)
        return True
    return False


@contextmanager
def progress_bar(steps: int, accuracy: str = "accuracy") -> Iterator[Callback]:
    """A tqdm bar over ``steps`` training steps; yields the ``train`` callback that moves it.

    The bar shows each step's loss and accuracy, the latter under the name ``accuracy``.
    """
    from tqdm import tqdm

    with tqdm(total=steps, desc="training", unit="step") as bar:

        def progress(step: int, loss: float, acc: float) -> None:
            bar.set_postfix(refresh=False, **{"loss": f"{loss:.4f}", accuracy: f"{acc:.0%}"})
            bar.update()

        yield progress
