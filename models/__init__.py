"""Shipped models, one directory each (``gait-phase/``: the default); installed as the
``gaitedge_models`` package so that :func:`edge.model.files.default_model_dir` finds them in
any install. See each model's ``CARD.md``."""
