"""Measure tunes in ABC notation and compare generated tunes with real ones.

:mod:`musicgen.evaluation.metrics` measures single tunes and sets of tunes
without TensorFlow; :mod:`musicgen.evaluation.likelihood` measures a model's
loss on held-out tunes.
"""
