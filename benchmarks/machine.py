"""The machine line that every benchmark prints first, without importing TensorFlow."""

from __future__ import annotations

import os
import platform


def machine_line() -> str:
    """Return the processor type, the CPU count and the platform of this machine."""
    return f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
