"""The runtime: GRU engine, model files, data, and the command line.

- :mod:`edge.gru`: the NumPy GRU (step over streams, packets, whole recordings).
- :mod:`edge.quant`: float32 / float16 / int8 weight storage.
- :mod:`edge.model_file`: model directories (json, npz, .tflite twins, card), checked.
- :mod:`edge.tflite_export`, :mod:`edge.backends`: the .tflite twin and the engines.
- :mod:`edge.dataset`: recordings with gait-phase targets, for training and evaluation.
- :mod:`edge.cli`: ``gaitedge``.

The streaming loop, gait events, trial store and reports arrive with the issues that build
them.
"""

__all__: list[str] = []
