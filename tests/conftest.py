"""Shared test configuration: one hypothesis profile for the whole suite.

Property tests run with no deadline (the first example pays for imports and warm-up), a
modest number of examples so the suite stays quick, and print the reproduction blob of a
failure. Under CI (the ``CI`` environment variable set) the examples are derandomized, so
a CI run is reproducible; locally each run explores new examples.
"""

import os

from hypothesis import settings

settings.register_profile(
    "chainrule",
    deadline=None,
    max_examples=60,
    print_blob=True,
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("chainrule")
