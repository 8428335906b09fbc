"""The character-level recurrent network: Embedding, recurrent layers, Dense logits."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from musicgen.config import ModelConfig
from musicgen.distribute import first_replica_batch, logs_for_reduction

_CELL_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


@keras.saving.register_keras_serializable(package="musicgen")
class CharRNN(keras.Model):
    """Predicts the next character of a tune from the ones before it.

    The default settings (tanh and sigmoid activations, no recurrent dropout,
    no unrolling) keep LSTM and GRU layers on the cuDNN kernel on a GPU. Built
    under a mixed Keras dtype policy, the embedding and recurrent layers
    compute in float16 or bfloat16 with float32 weights.

    Called as ``model(ids)`` it returns logits of shape (batch, time, vocab).
    Called with ``states=`` and ``return_state=True`` it also takes and returns
    the recurrent state of every layer, so sampling can feed one character at a
    time without running over the text again.
    """

    def __init__(
        self,
        vocab_size: int,
        cell: str = "lstm",
        layers: int = 1,
        units: int = 384,
        embedding: int = 64,
        dropout: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = ModelConfig(vocab_size, cell, layers, units, embedding, dropout)
        self.embedding = keras.layers.Embedding(vocab_size, embedding, name="embedding")
        layer_class = _CELL_LAYERS[cell]
        self.recurrent = [
            layer_class(units, return_sequences=True, return_state=True, name=f"{cell}_{index}")
            for index in range(layers)
        ]
        self.dropouts = [keras.layers.Dropout(dropout) for _ in range(layers)]
        # Logits stay float32 under a mixed policy, so the softmax and the loss
        # keep their precision while the recurrent layers compute in 16 bits.
        self.logits = keras.layers.Dense(vocab_size, name="logits", dtype="float32")

    @property
    def state_count(self) -> int:
        """Number of state tensors per layer: 2 for LSTM (h and c), 1 otherwise."""
        return 2 if self.settings.cell == "lstm" else 1

    def call(
        self,
        inputs: tf.Tensor,
        states: list[tf.Tensor] | None = None,
        return_state: bool = False,
        training: bool | None = None,
    ) -> Any:
        x = self.embedding(inputs)  # (batch, time, embedding)
        new_states: list[tf.Tensor] = []
        per_layer = self.state_count
        for index, (layer, dropout) in enumerate(zip(self.recurrent, self.dropouts, strict=True)):
            initial = (
                None if states is None else states[index * per_layer : (index + 1) * per_layer]
            )
            output = layer(x, initial_state=initial, training=training)
            x, layer_states = output[0], output[1:]  # x: (batch, time, units)
            new_states.extend(layer_states)
            x = dropout(x, training=training)
        logits = self.logits(x)  # (batch, time, vocab)
        if return_state:
            return logits, new_states
        return logits

    def initial_states(self, batch_size: int) -> list[tf.Tensor]:
        """Return zero states for ``batch_size`` sequences, each of shape (batch, units)."""
        zeros = tf.zeros((batch_size, self.settings.units))
        return [zeros] * (self.settings.layers * self.state_count)

    # The three methods below work around Keras 3.15's support for
    # MultiWorkerMirroredStrategy; see musicgen.distribute for what fails.

    def _maybe_symbolic_build(self, iterator: Any = None, data_batch: Any = None) -> None:
        if iterator is not None and data_batch is None and self._distribute_strategy:
            for _, _, batches in iterator:
                data_batch = first_replica_batch(next(batches))
                break
            iterator = None
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def train_step(self, data: Any) -> Any:
        return logs_for_reduction(self.distribute_strategy, super().train_step(data))

    def test_step(self, data: Any) -> Any:
        return logs_for_reduction(self.distribute_strategy, super().test_step(data))

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        settings = self.settings
        config.update(
            vocab_size=settings.vocab_size,
            cell=settings.cell,
            layers=settings.layers,
            units=settings.units,
            embedding=settings.embedding,
            dropout=settings.dropout,
        )
        return config


def build_model(config: ModelConfig) -> CharRNN:
    """Create an untrained network of shape ``config`` with its weights built.

    The weights come from Keras's global random state: call
    ``keras.utils.set_random_seed`` first for repeatable weights.
    """
    model = CharRNN(
        vocab_size=config.vocab_size,
        cell=config.cell,
        layers=config.layers,
        units=config.units,
        embedding=config.embedding,
        dropout=config.dropout,
    )
    model(tf.zeros((1, 1), dtype=tf.int32))
    return model


def load_model(path: str) -> CharRNN:
    """Load a network saved with ``model.save``, optimizer state included."""
    model = keras.saving.load_model(path, compile=True)
    if not isinstance(model, CharRNN):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a musicgen CharRNN")
    return model
