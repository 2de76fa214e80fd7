"""What runs per sample: the GRU engine, its weights, model files and what outputs mean.

- :mod:`.gru`: the NumPy GRU (step over streams, packets, whole recordings).
- :mod:`.quant`: float32 / float16 / int8 weight storage.
- :mod:`.files`: model directories (json, npz, .tflite twins, card), checked
  (:func:`load_model`, :class:`Model`); :mod:`.meta`: model.json, typed (:class:`ModelMeta`).
- :mod:`.streams`: stream key → row, shared by every engine.
- :mod:`.outputs`: output activation and the gait-event detector a model ships with.
- :mod:`.card`: CARD.md and the metric tables.
- :mod:`.tflite_export`, :mod:`.backends`: the .tflite twin and the engines.
"""
