"""The shared-memory budget: which tile sizes the flash-attention kernels use on a device.

A block's shared memory bounds its tiles, and the tiles bound the work it does per byte it
loads: a K/V tile is read once per BR query rows, so bigger BR means less HBM traffic, and
bigger BC means fewer barriers per key. Every CUDA GPU gives a block 48 KiB of shared memory;
newer ones give more to a kernel that asks (the opt-in limit: 227 KiB per block on a Hopper SM
of 228 KiB; the launch must raise CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, and the
kernel must declare its tiles `extern __shared__`). The rule here: among the kernel's tile
shapes, largest first, take the first that fits a block and still lets two blocks share an SM
(one block's barrier stalls are then covered by the other); failing that, the first that fits.

With no device known (the simulator, the CPU path, `kernels compile` without a GPU) the choice
is the kernel's default shape, shrunk until it fits the 48 KiB every GPU gives: the same on
every machine, so a replay is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

KIB = 1024
BASE_SHARED_PER_BLOCK = 48 * KIB  # what a block gets without the opt-in attribute

# Tile shapes (BR query rows, BC keys per K/V tile), largest first. The fp32 kernel has 128
# threads as 16 row groups × 8 key groups (BR ≤ 64 keeps its O patch at ≤ 64 registers); the
# tensor-core kernel has one warp per 16 query rows.
TILE_SHAPES: dict[str, tuple[tuple[int, int], ...]] = {
    "flash_attention_fwd": ((64, 64), (64, 32), (32, 32), (32, 16), (16, 16)),
    "flash_attention_tc": ((128, 64), (64, 64), (64, 32), (32, 32), (16, 16)),
}
DEFAULT_SHAPE = {"flash_attention_fwd": (64, 32), "flash_attention_tc": (64, 64)}


class _Problem(Protocol):
    @property
    def kernel(self) -> str: ...

    @property
    def d(self) -> int: ...


@dataclass(frozen=True)
class SharedLimits:
    """A device's shared memory, in bytes (cuDeviceGetAttribute names in the comments)."""

    per_block: int = BASE_SHARED_PER_BLOCK  # MAX_SHARED_MEMORY_PER_BLOCK
    per_block_optin: int = BASE_SHARED_PER_BLOCK  # MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    per_sm: int = 64 * KIB  # MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    reserved_per_block: int = 0  # RESERVED_SHARED_MEMORY_PER_BLOCK (1 KiB from sm_80)


HOPPER = SharedLimits(48 * KIB, 227 * KIB, 228 * KIB, 1 * KIB)  # H100 / H200 (sm_90)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def flash_shared_bytes(kernel: str, br: int, bc: int, head_dim: int) -> int:
    """Dynamic shared memory of one flash block, by the kernel's own layout (see its header).

    fp32: V [BC][DPAD] (DPAD = d rounded up to 32), Qᵀ [d][BR], K [BC][d|1] (an odd stride),
    P [BR][BC+1], 4 bytes each. Tensor cores: one [max(BR, BC)][DPAD+8] area for Q then K, and
    V [BC][DPAD+8] (DPAD = d rounded up to 16), 2 bytes each.
    """
    if kernel == "flash_attention_fwd":
        dpad = _round_up(head_dim, 32)
        k_stride = head_dim if head_dim % 2 else head_dim + 1
        return 4 * (bc * dpad + head_dim * br + bc * k_stride + br * (bc + 1))
    if kernel == "flash_attention_tc":
        stride = _round_up(head_dim, 16) + 8
        return 2 * (max(br, bc) + bc) * stride
    raise ValueError(f"{kernel} has no tile budget")


def blocks_per_sm(block_bytes: int, limits: SharedLimits) -> int:
    """Blocks one SM can hold by shared memory alone."""
    return limits.per_sm // (block_bytes + limits.reserved_per_block)


def flash_threads(kernel: str, br: int) -> int:
    """Threads per block: 128 for the fp32 kernel, one warp per 16 query rows on tensor cores."""
    return 128 if kernel == "flash_attention_fwd" else 2 * br


MAX_THREADS_PER_SM = 2048  # sm_80 and sm_90 (sm_86 / sm_89: 1536)
REGISTERS_PER_SM = 65536  # 64K 32-bit registers per SM, sm_70 through sm_90
# Registers per thread, at most, by ptxas for sm_90 over d = 1…128 (a compile test keeps the
# kernels under these): the tiles are chosen before compiling, and registers can bound the
# blocks an SM holds as surely as shared memory (256 threads × 212 registers: one block).
REGISTER_BOUND = {"flash_attention_fwd": 128, "flash_attention_tc": 224}


def blocks_by_registers(kernel: str, br: int) -> int:
    """Blocks one SM can hold by registers (ptxas allocates in units of 8 per thread)."""
    per_thread = -(-REGISTER_BOUND[kernel] // 8) * 8
    return REGISTERS_PER_SM // (per_thread * flash_threads(kernel, br))


def _kib(nbytes: int) -> str:
    """Bytes as KiB with at most one decimal: 232448 → "227 KiB", 115200 → "112.5 KiB"."""
    return f"{nbytes / KIB:.1f}".removesuffix(".0") + " KiB"


def choose_tiles(
    problem: _Problem,
    max_shared_per_block: int,
    max_shared_optin: int,
    shared_per_sm: int | None = None,
    reserved_per_block: int = 0,
) -> tuple[dict[str, int], str]:
    """({"BR": …, "BC": …}, the one-line reason) for a flash kernel on a device with these limits.

    `shared_per_sm` None means no device is known: the kernel's default shape, or the next
    smaller one that fits `max_shared_per_block`. Otherwise the largest shape that fits the
    opt-in limit with two blocks per SM, else the largest that fits.
    """
    shapes = TILE_SHAPES[problem.kernel]
    limit = max(max_shared_per_block, max_shared_optin)

    def cost(shape: tuple[int, int]) -> int:
        return flash_shared_bytes(problem.kernel, *shape, problem.d)

    if shared_per_sm is None:
        start = shapes.index(DEFAULT_SHAPE[problem.kernel])
        fitting = [s for s in shapes[start:] if cost(s) <= max_shared_per_block] or [shapes[-1]]
        br, bc = fitting[0]
        used = cost((br, bc))
        return {"BR": br, "BC": bc}, (
            f"BR={br} BC={bc}: {_kib(used)} of {_kib(max_shared_per_block)} per block "
            "(no device: the default that fits every GPU)"
        )
    limits = SharedLimits(max_shared_per_block, max_shared_optin, shared_per_sm,
                          reserved_per_block)
    fitting = [s for s in shapes if cost(s) <= limit]
    if not fitting:
        fitting = [shapes[-1]]

    def resident(shape: tuple[int, int]) -> dict[str, int]:
        """Blocks per SM by each limit."""
        return {"shared memory": blocks_per_sm(cost(shape), limits),
                "registers": blocks_by_registers(problem.kernel, shape[0]),
                "threads": MAX_THREADS_PER_SM // flash_threads(problem.kernel, shape[0])}

    doubled = [s for s in fitting if min(resident(s).values()) >= 2]
    br, bc = (doubled or fitting)[0]
    used = cost((br, bc))
    limits_met = resident((br, bc))
    bound = min(limits_met, key=lambda name: limits_met[name])
    per_sm = limits_met[bound]
    optin = " (opt-in above 48 KiB)" if used > max_shared_per_block else ""
    return {"BR": br, "BC": bc}, (
        f"BR={br} BC={bc}: {_kib(used)} of {_kib(limit)} per block{optin}; "
        f"{per_sm} block{'s' if per_sm != 1 else ''} per SM (by {bound})"
    )


def choose_for(problem: _Problem, limits: SharedLimits | None) -> tuple[dict[str, int], str]:
    """choose_tiles with a SharedLimits (None: no device known)."""
    if limits is None:
        return choose_tiles(problem, BASE_SHARED_PER_BLOCK, BASE_SHARED_PER_BLOCK)
    return choose_tiles(problem, limits.per_block, limits.per_block_optin, limits.per_sm,
                        limits.reserved_per_block)
