"""The ``chainrule`` command: an expression's value and gradient, optionally drawn.

``autograd.cli.main`` is the command line (``main(argv)``, the ``chainrule`` script and
``python -m autograd``); ``autograd.cli.expression`` parses and evaluates expressions
safely. It sits outside the engine's core: ``import autograd`` never loads it.
"""
