"""The token embedding table on its top two principal components.

Centre the rows, take the SVD, project on the first two right singular vectors; the shares of
variance are the squared singular values over their sum. A principal component's sign is
arbitrary, so it is chosen to agree with the previous map (the picture does not flip between
refreshes) or, with none, so that each component's largest loading is positive.
"""

from __future__ import annotations

import numpy as np

from .readouts import EmbeddingMap


def embedding_pca(wte: np.ndarray, labels: tuple[str, ...] | list[str], step: int,
                  previous: EmbeddingMap | None = None) -> EmbeddingMap:
    """wte (V, C) projected on its top two principal components."""
    wte = np.asarray(wte, dtype=np.float64)
    if wte.ndim != 2 or len(labels) != wte.shape[0]:
        raise ValueError(f"need one label per row of a 2-D table, got {len(labels)} labels "
                         f"for shape {wte.shape}")
    centred = wte - wte.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = np.zeros((2, wte.shape[1]))
    count = min(2, vt.shape[0])
    components[:count] = vt[:count]
    for i in range(count):  # a deterministic sign: the largest loading positive
        if components[i, np.argmax(np.abs(components[i]))] < 0:
            components[i] = -components[i]
    xy = centred @ components.T
    if previous is not None and previous.xy.shape == xy.shape:
        for i in range(2):
            if float(xy[:, i] @ previous.xy[:, i]) < 0:
                xy[:, i] = -xy[:, i]
    variance = singular**2
    total = float(variance.sum())
    shares = [float(v / total) if total > 0 else 0.0 for v in variance[:2]]
    shares += [0.0] * (2 - len(shares))
    return EmbeddingMap(labels=tuple(labels), xy=xy, explained=(shares[0], shares[1]),
                        step=step)
