"""Runnable examples built on ``nn``: each is a module with a ``main`` and a reusable ``train``.

    python -m nn.examples.binary_addition    # an RNN learns to add binary numbers

``_cli`` holds the command line they share with ``nn.demo`` (--steps, --seed, the tqdm bar).
"""
