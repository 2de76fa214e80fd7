"""The runtime: GRU engine, model files, training and scoring, the streaming loop, the store.

- :mod:`edge.gru`: the NumPy GRU (step over streams, packets, whole recordings).
- :mod:`edge.quant`: float32 / float16 / int8 weight storage.
- :mod:`edge.model_file`: model directories (json, npz, .tflite twins, card), checked.
- :mod:`edge.tflite_export`, :mod:`edge.backends`: the .tflite twin and the engines.
- :mod:`edge.dataset`: recordings with gait-phase targets, for training and evaluation.
- :mod:`edge.train`: training with PyTorch (the ``train`` extra), fold models, cards.
- :mod:`edge.progress`: progress bars for training and replay.
- :mod:`edge.events`: the causal gait-event detector.
- :mod:`edge.metrics`, :mod:`edge.evaluate`: scoring, as the streaming loop reports.
- :mod:`edge.clock`: device clock → host clock.
- :mod:`edge.runtime`: the streaming loop (transports → model → events → store).
- :mod:`edge.store`: the per-deployment trial store (SQLite, WAL).
- :mod:`edge.cli`: ``gaitedge``.
"""

__all__: list[str] = []
