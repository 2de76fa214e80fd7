"""The runtime: streaming loop, GRU engine, gait events, trial store, reports and CLI.

So far: the command line (:mod:`edge.cli`). The engine, model files, loop and store
arrive with the issues that build them.
"""

__all__: list[str] = []
