"""Shoe versus shoe: paired statistics over the subjects who wore both (the ``report`` extra).

- :mod:`~edge.compare.design`: which trials, each subject's mean per shoe.
- :mod:`~edge.compare.stats`: the paired comparison and the measurement's reliability.
- :mod:`~edge.compare.text`: the comparison as a table for people.
"""
