"""The parameters: their names and shapes in the reference's order, one flat layout, and the
initial values drawn exactly as the reference draws them."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .config import Config


def parameter_shapes(config: Config, vocab_size: int) -> dict[str, tuple[int, int]]:
    """Every weight matrix as (rows, cols) = (outputs, inputs), in the reference's order."""
    c = config.n_embed
    shapes = {"wte": (vocab_size, c), "wpe": (config.block_size, c), "lm_head": (vocab_size, c)}
    for i in range(config.n_layer):
        shapes[f"blocks.{i}.attn.wq"] = (c, c)
        shapes[f"blocks.{i}.attn.wk"] = (c, c)
        shapes[f"blocks.{i}.attn.wv"] = (c, c)
        shapes[f"blocks.{i}.attn.wo"] = (c, c)
        shapes[f"blocks.{i}.mlp_fc1"] = (4 * c, c)
        shapes[f"blocks.{i}.mlp_fc2"] = (c, 4 * c)
    return shapes


@dataclass(frozen=True)
class ParamLayout:
    """Where each matrix lives in one flat float64 vector (row-major, matrices in order).

    The flat order is the reference's `params` list, so Adam's state lines up element by
    element with the reference's m and v lists.
    """

    shapes: dict[str, tuple[int, int]]

    @classmethod
    def of(cls, config: Config, vocab_size: int) -> ParamLayout:
        return cls(parameter_shapes(config, vocab_size))

    @property
    def names(self) -> list[str]:
        return list(self.shapes)

    @property
    def size(self) -> int:
        return sum(rows * cols for rows, cols in self.shapes.values())

    def offsets(self) -> dict[str, tuple[int, int]]:
        """name -> (start, stop) in the flat vector."""
        spans, start = {}, 0
        for name, (rows, cols) in self.shapes.items():
            spans[name] = (start, start + rows * cols)
            start += rows * cols
        return spans

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """name -> a (rows, cols) view into `flat` (writes go through)."""
        return {name: flat[start:stop].reshape(self.shapes[name])
                for name, (start, stop) in self.offsets().items()}

    def locate(self, index: int) -> tuple[str, int, int]:
        """Flat index -> (matrix name, row, col)."""
        for name, (start, stop) in self.offsets().items():
            if start <= index < stop:
                row, col = divmod(index - start, self.shapes[name][1])
                return name, row, col
        raise IndexError(index)


def init_weights(config: Config, vocab_size: int, rng: random.Random) -> np.ndarray:
    """The flat initial weights: rng.gauss(0, init_std) row by row, matrix by matrix, in order."""
    return np.array([rng.gauss(0, config.init_std)
                     for _ in range(ParamLayout.of(config, vocab_size).size)], dtype=np.float64)
