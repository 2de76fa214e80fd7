"""Offline only: training data, training (PyTorch, the ``train`` extra), scoring.

- :mod:`.data`: recordings with gait-phase targets, both layouts (ipol-gait, plain files).
- :mod:`.train`: training, fold models, cards.
- :mod:`.metrics`, :mod:`.evaluate`: scoring, as the streaming loop reports.

The live loop never imports this package (a test reads the imports).
"""
