"""Compare two sets of tunes by the distribution of feature distances.

In the manner of MGEval (Yang and Lerch, 2018), one feature at a time: the
distances between all pairs of real tunes (intra-set) and the distances
between each generated and each real tune (inter-set) are smoothed into
densities with a Gaussian kernel. The overlap area of the two densities is
1 when the generated tunes lie among the real ones as the real ones lie
among themselves, and near 0 when they are far away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from musicgen.evaluation.metrics import TuneMetrics, normalise

GRID_POINTS = 1000


# Feature name -> the vector of one tune. Histograms are shares of the
# tune's notes; the pitch range is in semitones.
FEATURES: dict[str, Callable[[TuneMetrics], list[float]]] = {
    "pitch-class histogram": lambda tune: normalise(tune.pitch_classes),
    "note-length histogram": lambda tune: normalise(tune.note_lengths),
    "pitch range": lambda tune: [float(tune.pitch_range or 0)],
}


def intra_set_distances(features: np.ndarray) -> np.ndarray:
    """Return the Euclidean distances between all pairs of rows of ``features`` (n, d)."""
    rows, columns = np.triu_indices(len(features), k=1)
    return np.linalg.norm(features[rows] - features[columns], axis=1)


def inter_set_distances(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Return the Euclidean distances from every row of ``first`` to every row of ``second``."""
    differences = first[:, None, :] - second[None, :, :]  # (n, m, d)
    return np.linalg.norm(differences, axis=2).ravel()


def gaussian_density(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Estimate the density of ``samples`` at ``grid`` with a Gaussian kernel.

    The bandwidth follows Silverman's rule of thumb, 0.9 min(sd, IQR/1.34)
    n^(-1/5), with the standard deviation alone when the IQR is 0. It is at
    least a hundredth of the grid's span, so equal samples make a narrow peak.
    """
    spread = min(np.std(samples), np.subtract(*np.percentile(samples, [75, 25])) / 1.34)
    if spread <= 0:
        spread = np.std(samples)
    bandwidth = 0.9 * spread * len(samples) ** (-0.2)
    floor = (grid[-1] - grid[0]) / 100
    bandwidth = max(bandwidth, floor)
    scaled = (grid[:, None] - samples[None, :]) / bandwidth  # (grid, samples)
    kernel = np.exp(-0.5 * scaled**2) / np.sqrt(2 * np.pi)
    result: np.ndarray = kernel.mean(axis=1) / bandwidth
    return result


def overlap_area(first: np.ndarray, second: np.ndarray) -> float:
    """Return the area under the smaller of the two samples' estimated densities, 0 to 1."""
    low = min(first.min(), second.min())
    high = max(first.max(), second.max())
    margin = max(high - low, 1e-6) * 0.5
    grid = np.linspace(low - margin, high + margin, GRID_POINTS)
    smaller = np.minimum(gaussian_density(first, grid), gaussian_density(second, grid))
    return float(np.clip(np.trapezoid(smaller, grid), 0.0, 1.0))


def feature_overlap(
    real: Sequence[TuneMetrics], generated: Sequence[TuneMetrics], feature: str
) -> float | None:
    """Return the overlap area of intra-set (real) and inter-set distances for ``feature``.

    Only tunes with notes count. Returns None when there are fewer than two
    real tunes or no generated tune with notes.
    """
    extract = FEATURES[feature]
    real_rows = np.array([extract(tune) for tune in real if tune.pitches], dtype=float)
    generated_rows = np.array([extract(tune) for tune in generated if tune.pitches], dtype=float)
    if len(real_rows) < 2 or len(generated_rows) == 0:
        return None
    return overlap_area(
        intra_set_distances(real_rows), inter_set_distances(generated_rows, real_rows)
    )
