"""Pick the distribution strategy, numeric precision and threads for the devices found.

Everything here that touches TensorFlow's device setup must run before
TensorFlow initialises its devices, that is before the first tensor or model
is made: ``split_cpu`` and ``configure_threads`` raise otherwise, and
``MultiWorkerMirroredStrategy`` must be created before any other operation.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from gettext import ngettext
from typing import Any

import keras
import tensorflow as tf

from musicgen.config import PRECISIONS

logger = logging.getLogger(__name__)

STRATEGIES = ("none", "mirrored", "multi-worker")


@dataclass(frozen=True)
class Gpu:
    """One GPU as TensorFlow describes it.

    Attributes:
        name: The device name, such as ``NVIDIA H100 80GB HBM3``.
        compute_capability: CUDA compute capability as (major, minor), or
            ``None`` when TensorFlow does not report one.
    """

    name: str
    compute_capability: tuple[int, int] | None


def choose_precision(requested: str, gpus: Sequence[Gpu]) -> str:
    """Return the Keras dtype policy name to train with.

    ``auto`` picks ``mixed_float16`` when every GPU has compute capability 7.0
    or above (Volta and later, with tensor cores). cuDNN's LSTM and GRU
    kernels run in float16 there, and Keras adds dynamic loss scaling. Older
    GPUs train in float32. Without a GPU, ``auto`` picks ``float32``: on a
    2-core CPU with AMX, ``mixed_bfloat16`` trained the ``cpu`` preset's
    model no faster (benchmarks/training.py, recorded in docs/benchmarks.md).

    Args:
        requested: One of :data:`PRECISIONS`.
        gpus: The GPUs that training will use; empty on a CPU-only machine.

    Raises:
        ValueError: ``requested`` is not one of :data:`PRECISIONS`.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if requested != "auto":
        return requested
    if gpus:
        # NOTE: this branch has not run on a GPU yet; its speed there is unmeasured.
        capabilities = [gpu.compute_capability for gpu in gpus]
        if all(capability is not None and capability >= (7, 0) for capability in capabilities):
            return "mixed_float16"
        return "float32"
    return "float32"


def local_gpus() -> list[Gpu]:
    """Describe the GPUs TensorFlow can see, in device order."""
    described = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        capability = details.get("compute_capability")
        described.append(
            Gpu(
                name=str(details.get("device_name", device.name)),
                compute_capability=tuple(capability) if capability else None,
            )
        )
    return described


def split_cpu(count: int) -> None:
    """Split the first CPU into ``count`` logical devices, so mirrored training can be tested.

    Raises:
        ValueError: ``count`` is below 1, or TensorFlow has already
            initialised its devices.
    """
    if count < 1:
        raise ValueError(f"the number of logical CPU devices must be at least 1, got {count}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as error:
        raise ValueError(
            "cannot split the CPU into logical devices after TensorFlow has started; "
            "split it before making any tensor or model"
        ) from error


def configure_threads(intra_op: int | None, inter_op: int | None) -> None:
    """Set TensorFlow's thread pools; ``None`` keeps TensorFlow's default for that pool.

    Raises:
        ValueError: TensorFlow has already initialised its devices.
    """
    try:
        if intra_op is not None:
            tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        if inter_op is not None:
            tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError as error:
        raise ValueError(
            "cannot change TensorFlow's threads after it has started; set them first"
        ) from error


def make_strategy(name: str) -> tf.distribute.Strategy:
    """Create the ``tf.distribute`` strategy called ``name``.

    * ``none``: TensorFlow's default strategy, one device.
    * ``mirrored``: one replica per local GPU, or per logical CPU device when
      there is no GPU (see :func:`split_cpu`).
    * ``multi-worker``: one replica per worker listed in the ``TF_CONFIG``
      environment variable, gradients all-reduced over the network.

    Raises:
        ValueError: ``name`` is unknown, or ``multi-worker`` is asked for
            without a valid ``TF_CONFIG``.
    """
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
        replicas = strategy.num_replicas_in_sync
        logger.info("mirrored training on %d %s", replicas, ngettext("device", "devices", replicas))
        return strategy
    if name == "multi-worker":
        task = read_tf_config()
        if not task.cluster:
            raise ValueError(
                "--strategy multi-worker needs the TF_CONFIG environment variable, such as "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}'
            )
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        logger.info(
            "multi-worker training: task %s %d of %d workers, %d replicas",
            task.type,
            task.index,
            task.worker_count,
            strategy.num_replicas_in_sync,
        )
        return strategy
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")


# Keras 3.15's fit under MultiWorkerMirroredStrategy fails in two places that
# MirroredStrategy passes. Before the first step it averages the first batch,
# an (inputs, targets) tuple, with one strategy.reduce call, which the
# multi-worker strategy rejects for a tuple. After each step it reduces every
# logged metric with strategy.reduce("MEAN", value, axis=0), which fails for
# the scalars that Keras's own steps log. CharRNN applies the two helpers
# below to avoid both.


def first_replica_batch(batch: Any) -> Any:
    """Return the first replica's share of a distributed batch, for building the model.

    Only the batch's shapes matter there, and Keras takes them from one
    replica's share as well.
    """

    def first(value: Any) -> Any:
        if isinstance(value, tf.distribute.DistributedValues):
            return value.values[0]
        return value

    return keras.tree.map_structure(first, batch)


def logs_for_reduction(strategy: tf.distribute.Strategy, logs: Any) -> Any:
    """Give each scalar in a step's logs shape (1,) under the multi-worker strategy.

    Keras then averages it over axis 0 and over the replicas, which yields the
    same scalar mean; under other strategies ``logs`` is returned unchanged.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return logs

    def as_vector(value: Any) -> Any:
        if isinstance(value, tf.Tensor) and value.shape.rank == 0:
            return tf.reshape(value, [1])
        return value

    return keras.tree.map_structure(as_vector, logs)


@dataclass(frozen=True)
class ClusterTask:
    """This process's place in a ``TF_CONFIG`` cluster.

    Attributes:
        cluster: Job name to list of ``host:port``; empty without ``TF_CONFIG``.
        type: This task's job name, such as ``worker`` or ``chief``.
        index: This task's index within its job.
    """

    cluster: dict[str, list[str]]
    type: str
    index: int

    @property
    def worker_count(self) -> int:
        """Number of tasks that train: the chief (if any) and the workers."""
        return len(self.cluster.get("chief", [])) + len(self.cluster.get("worker", []))

    @property
    def is_chief(self) -> bool:
        """Whether this task writes checkpoints: the ``chief`` task, or worker 0 without one."""
        if not self.cluster:
            return True
        if self.type == "chief":
            return True
        return self.type == "worker" and self.index == 0 and "chief" not in self.cluster


def writes_files(strategy: tf.distribute.Strategy) -> bool:
    """Return whether this process writes the run: always, except a non-chief multi-worker task.

    ``TF_CONFIG`` counts only under the multi-worker strategy, so a stray
    ``TF_CONFIG`` cannot silence a single-machine run.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    return read_tf_config().is_chief


def read_tf_config(environ: dict[str, str] | None = None) -> ClusterTask:
    """Parse the ``TF_CONFIG`` environment variable; without it, a single chief task.

    Raises:
        ValueError: ``TF_CONFIG`` is not JSON of the documented shape.
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "")
    if not text.strip():
        return ClusterTask(cluster={}, type="chief", index=0)
    try:
        payload = json.loads(text)
        jobs = payload.get("cluster", {}).items()
        cluster = {str(job): [str(address) for address in hosts] for job, hosts in jobs}
        task = payload.get("task", {})
        kind, index = str(task["type"]), int(task.get("index", 0))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ValueError(
            f"TF_CONFIG is invalid ({error}); expected JSON like "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}'
        ) from error
    return ClusterTask(cluster=cluster, type=kind, index=index)
