"""musicgen: train a recurrent network on folk tunes in ABC notation and write its tunes as MIDI.

Importing this package is cheap: TensorFlow is imported only by the modules
that build, train or sample a model (``model``, ``train``, ``sample``,
``generate``). The ABC to MIDI converter (``musicgen.abc``, ``musicgen.midi``)
never imports it.
"""

__version__ = "0.1.0"
