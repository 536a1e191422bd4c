"""The kernels, their compile-time parameters, and how one problem maps onto their launches.

Everything here is shared by the real launch (runtime.py), the CPU twin (sim.py), the trace
(trace.py), the CLI and the screen, so a tile means the same thing everywhere. Sizes are in
elements unless a name says bytes; all data is fp32 (4 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources

from .budget import SharedLimits, choose_for, flash_shared_bytes
from .trace import FLOAT_BYTES, Access, MemoryLevel, OperandGrid, TileRef, WorkGrid

BF16_BYTES = 2

MAX_HEAD_DIM = 128
DRAM, SRAM, REGISTER = MemoryLevel.DRAM, MemoryLevel.SRAM, MemoryLevel.REGISTER


@dataclass(frozen=True)
class KernelSpec:
    """One kernel source: its entry points in launch order and its default macros."""

    name: str
    source: str  # file name in this package
    family: str  # "matmul" (C = A·B, n×n) or "attention" (O = softmax(QKᵀ/√d)·V)
    entries: tuple[str, ...]
    defines: dict[str, int] = field(default_factory=dict)
    summary: str = ""
    dtype: str = "fp32"  # the inputs' type in HBM: "fp32", or "bf16" (tensor cores; fp32 out)

    def source_text(self) -> str:
        return resources.files("microgpt_tui.kernels").joinpath(self.source).read_text("utf-8")


KERNELS: dict[str, KernelSpec] = {
    spec.name: spec
    for spec in (
        KernelSpec(
            "matmul_naive",
            "matmul_naive.cu",
            "matmul",
            ("matmul_naive",),
            {},
            "one thread per C element, every operand read from HBM",
        ),
        KernelSpec(
            "matmul_tiled",
            "matmul_tiled.cu",
            "matmul",
            ("matmul_tiled",),
            {"TILE": 32, "TM": 4},
            "TILE×TILE tiles of A and B staged in shared memory, TM outputs per thread",
        ),
        KernelSpec(
            "matmul_register_blocked",
            "matmul_register_blocked.cu",
            "matmul",
            ("matmul_register_blocked",),
            {"BM": 128, "BN": 128, "BK": 8, "TM": 8, "TN": 8, "APAD": 4},
            "shared-memory tiles plus a TM×TN patch of C per thread in registers",
        ),
        KernelSpec(
            "matmul_tc",
            "matmul_tc.cu",
            "matmul",
            ("matmul_tc",),
            {"BM": 128, "BN": 128, "BK": 32, "WM": 64, "WN": 32, "PAD": 8},
            "tensor cores: bf16 tiles in shared memory, mma.sync per warp, fp32 accumulate",
            dtype="bf16",
        ),
        KernelSpec(
            "attention_naive",
            "attention_naive.cu",
            "attention",
            ("attention_scores", "attention_softmax", "attention_pv"),
            {"SOFTMAX_THREADS": 128},
            "S = QKᵀ/√d to HBM (N×N), softmax, then P·V: three kernels",
        ),
        KernelSpec(
            "flash_attention_fwd",
            "flash_attention_fwd.cu",
            "attention",
            ("flash_attention_fwd",),
            {"HEAD_DIM": 64, "BR": 64, "BC": 32},
            "FlashAttention-2, fp32: 4 warps, K/V tiles streamed through SRAM, online softmax",
        ),
        KernelSpec(
            "flash_attention_tc",
            "flash_attention_tc.cu",
            "attention",
            ("flash_attention_tc",),
            {"HEAD_DIM": 64, "BR": 64, "BC": 64},
            "FlashAttention-2 on tensor cores: bf16 Q·Kᵀ and P·V by mma.sync, fp32 softmax",
            dtype="bf16",
        ),
    )
}


class ProblemError(ValueError):
    """A problem size the kernels (or the simulator) cannot take; the message is one line."""


@dataclass(frozen=True)
class Problem:
    """What to compute: n×n matmul, or attention over `heads` (batch·heads) sequences of n×d."""

    kernel: str
    n: int
    d: int = 64
    causal: bool = False
    heads: int = 1

    @property
    def spec(self) -> KernelSpec:
        return KERNELS[self.kernel]

    @property
    def family(self) -> str:
        return self.spec.family

    def describe(self) -> str:
        if self.family == "matmul":
            return f"{self.kernel} n={self.n}"
        causal = " causal" if self.causal else ""
        heads = f" heads={self.heads}" if self.heads != 1 else ""
        return f"{self.kernel} N={self.n} d={self.d}{causal}{heads}"


def find_kernel(name: str) -> KernelSpec:
    try:
        return KERNELS[name]
    except KeyError:
        raise ProblemError(f"unknown kernel {name!r}; choose from {', '.join(KERNELS)}") from None


FLASH_KERNELS = ("flash_attention_fwd", "flash_attention_tc")


def defines_for(problem: Problem, overrides: dict[str, int] | None = None, *,
                limits: SharedLimits | None = None) -> dict[str, int]:
    """The macros a problem compiles with: the defaults, HEAD_DIM = d and BR/BC from the
    shared-memory budget for flash (`limits`: the device's; None keeps the 48 KiB defaults
    that fit every GPU and the simulator), then overrides."""
    defines = dict(problem.spec.defines)
    if "HEAD_DIM" in defines:
        defines["HEAD_DIM"] = problem.d
    if problem.kernel in FLASH_KERNELS:
        defines.update(choose_for(problem, limits)[0])
    defines.update(overrides or {})
    return defines


def tile_reason(problem: Problem, limits: SharedLimits | None = None) -> str:
    """Why the flash kernels' BR/BC are what they are on this device (one line; "" otherwise)."""
    return choose_for(problem, limits)[1] if problem.kernel in FLASH_KERNELS else ""


def check_problem(problem: Problem, max_n: int) -> None:
    """Raise ProblemError for sizes the kernels cannot take (or beyond `max_n`)."""
    find_kernel(problem.kernel)
    if not 1 <= problem.n <= max_n:
        raise ProblemError(f"n must be between 1 and {max_n:,} (got {problem.n:,})")
    if problem.family == "attention":
        if not 1 <= problem.d <= MAX_HEAD_DIM:
            raise ProblemError(f"d must be between 1 and {MAX_HEAD_DIM} (got {problem.d})")
        if not 1 <= problem.heads <= 65535:
            raise ProblemError(f"heads must be between 1 and 65535 (got {problem.heads})")


def shared_bytes(entry: str, defines: dict[str, int]) -> int:
    """Static shared memory per block, by the kernel's own arithmetic (ptxas must agree)."""
    if entry == "matmul_tiled":
        return 2 * defines["TILE"] ** 2 * FLOAT_BYTES
    if entry == "matmul_register_blocked":
        # As is BK rows of BM + APAD floats (the padding breaks the transposed store's 8-way
        # bank conflict), Bs BK rows of BN.
        pad = defines.get("APAD", 4)
        return (defines["BM"] + pad + defines["BN"]) * defines["BK"] * FLOAT_BYTES
    if entry == "matmul_tc":
        # bf16 tiles, each row padded by PAD elements (16 bytes) so ldmatrix is conflict-free.
        bm, bn, bk, pad = (defines[key] for key in ("BM", "BN", "BK", "PAD"))
        return (bm * (bk + pad) + bk * (bn + pad)) * BF16_BYTES
    if entry == "attention_softmax":
        return defines["SOFTMAX_THREADS"] * FLOAT_BYTES
    return 0  # the flash kernels' tiles are all dynamic: see dynamic_shared_bytes


def dynamic_shared_bytes(entry: str, defines: dict[str, int]) -> int:
    """Dynamic (`extern __shared__`) shared memory per block, passed at launch; budget.py holds
    the flash kernels' layouts. ptxas does not see it (it reports static memory only)."""
    if entry in FLASH_KERNELS:
        return flash_shared_bytes(entry, defines["BR"], defines["BC"], defines["HEAD_DIM"])
    return 0


@dataclass(frozen=True)
class Launch:
    """One kernel launch: entry point, grid and block shape, and trace slots per block."""

    entry: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    steps: int  # tile steps in each block's loop = trace slots per block
    shared_bytes: int  # all of the block's shared memory, static and dynamic
    # The dynamic part, passed to cuLaunchKernel; above 48 KiB the runtime first raises the
    # function's CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES (a Hopper SM has 228 KiB).
    dynamic_shared_bytes: int = 0

    @property
    def blocks(self) -> int:
        return self.grid[0] * self.grid[1] * self.grid[2]

    @property
    def threads(self) -> int:
        return self.block[0] * self.block[1] * self.block[2]


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def plan(problem: Problem, defines: dict[str, int] | None = None) -> list[Launch]:
    """The launches that compute `problem`, in stream order."""
    defines = defines or defines_for(problem)
    n, d, heads = problem.n, problem.d, problem.heads

    def launch(entry, grid, block, steps):
        dynamic = dynamic_shared_bytes(entry, defines)
        return Launch(entry, grid, block, steps, shared_bytes(entry, defines) + dynamic, dynamic)

    match problem.kernel:
        case "matmul_naive":
            return [launch("matmul_naive", (_cdiv(n, 16), _cdiv(n, 16), 1), (16, 16, 1), 1)]
        case "matmul_tiled":
            # TM outputs of one column per thread: TILE × TILE/TM threads (TM = 4 in the .cu).
            t = defines["TILE"]
            rows = t // defines.get("TM", 4)
            return [launch("matmul_tiled", (_cdiv(n, t), _cdiv(n, t), 1), (t, rows, 1),
                           _cdiv(n, t))]
        case "matmul_register_blocked":
            grid = (_cdiv(n, defines["BN"]), _cdiv(n, defines["BM"]), 1)
            # One thread per TM×TN patch of the block's BM×BN tile of C.
            threads = (defines["BM"] // defines["TM"]) * (defines["BN"] // defines["TN"])
            steps = _cdiv(n, defines["BK"])
            return [launch("matmul_register_blocked", grid, (threads, 1, 1), steps)]
        case "matmul_tc":
            grid = (_cdiv(n, defines["BN"]), _cdiv(n, defines["BM"]), 1)
            # One warp per WM×WN patch of the block's BM×BN tile of C.
            warps = (defines["BM"] // defines["WM"]) * (defines["BN"] // defines["WN"])
            return [launch("matmul_tc", grid, (32 * warps, 1, 1), _cdiv(n, defines["BK"]))]
        case "attention_naive":
            return [
                launch("attention_scores", (_cdiv(n, 16), _cdiv(n, 16), heads), (16, 16, 1), 1),
                launch("attention_softmax", (n, heads, 1), (defines["SOFTMAX_THREADS"], 1, 1), 1),
                launch("attention_pv", (_cdiv(d, 16), _cdiv(n, 16), heads), (16, 16, 1), 1),
            ]
        case "flash_attention_fwd":
            # 128 threads (4 warps) per block of BR query rows, whatever BR is.
            grid = (_cdiv(n, defines["BR"]), heads, 1)
            steps = _cdiv(n, defines["BC"])
            return [launch("flash_attention_fwd", grid, (128, 1, 1), steps)]
        case "flash_attention_tc":
            # One warp per 16 query rows.
            grid = (_cdiv(n, defines["BR"]), heads, 1)
            steps = _cdiv(n, defines["BC"])
            return [launch("flash_attention_tc", grid, (2 * defines["BR"], 1, 1), steps)]
    raise ProblemError(f"unknown kernel {problem.kernel!r}")


def matmul_tile_shape(kernel: str, defines: dict[str, int], n: int) -> tuple[int, int, int]:
    """(rows, cols) of C one matmul block computes and the k depth of each of its tile steps.

    The naive kernel has no k tiles: its one step reads whole rows of A and columns of B.
    """
    if kernel == "matmul_naive":
        return 16, 16, n
    if kernel == "matmul_tiled":
        return defines["TILE"], defines["TILE"], defines["TILE"]
    return defines["BM"], defines["BN"], defines["BK"]


def output_shape(problem: Problem) -> tuple[int, ...]:
    """C is n×n; attention's O is (heads, n, d), like each of Q, K and V."""
    if problem.family == "matmul":
        return (problem.n, problem.n)
    return (problem.heads, problem.n, problem.d)


def flash_tiles_for_block(q_tile: int, n: int, defines: dict[str, int], causal: bool) -> int:
    """K/V tiles a flash block visits: all of them, or up to the diagonal when causal."""
    tiles = _cdiv(n, defines["BC"])
    if causal:
        tiles = min(tiles, (q_tile * defines["BR"] + defines["BR"] - 1) // defines["BC"] + 1)
    return tiles


def visible_pairs(n: int, causal: bool) -> int:
    """(query, key) pairs that attention scores: n², or n(n+1)/2 when causal."""
    return n * (n + 1) // 2 if causal else n * n


def flop_count(problem: Problem) -> float:
    """Useful floating-point operations: 2n³ for matmul; 4·d per visible pair per head."""
    if problem.family == "matmul":
        return 2.0 * problem.n**3
    return 4.0 * problem.d * visible_pairs(problem.n, problem.causal) * problem.heads


def step_tiles(
    problem: Problem, defines: dict[str, int], launch_index: int, block: tuple[int, int, int],
    step: int,
) -> list[TileRef]:
    """The tiles one block touches in one tile step (partial tiles clipped to n), by level.

    Tiles staged in shared memory are SRAM reads (a miss: loaded from HBM in this step; flash
    keeps its Q tile, so from its second step Q is a hit); the one-thread-per-output kernels
    read the rows and columns their block needs straight from HBM (DRAM reads); the
    register-blocked kernel accumulates its C tile in registers; results are DRAM writes.
    """
    n, d = problem.n, problem.d
    bx, by, bz = block

    def span(index: int, size: int, limit: int) -> tuple[int, int]:
        return (index * size, min((index + 1) * size, limit))

    def read(operand, rows, cols, level=SRAM, hit=False, head=0):
        # Main memory always holds the data: a read there is never a miss.
        return TileRef(operand, rows, cols, level, Access.READ, hit or level is DRAM, head)

    def store(operand, rows, cols, head=0):
        return TileRef(operand, rows, cols, DRAM, Access.WRITE, True, head)

    match problem.kernel:
        case "matmul_naive" | "matmul_tiled" | "matmul_register_blocked" | "matmul_tc":
            tm, tn, tk = matmul_tile_shape(problem.kernel, defines, n)
            rows, cols, ks = span(by, tm, n), span(bx, tn, n), span(step, tk, n)
            staged = DRAM if problem.kernel == "matmul_naive" else SRAM
            refs = [read("A", rows, ks, staged), read("B", ks, cols, staged)]
            if problem.spec.dtype == "bf16":  # A and B are 2-byte bf16 in HBM; C is fp32
                refs = [replace(ref, element_bytes=BF16_BYTES) for ref in refs]
            if problem.kernel in ("matmul_register_blocked", "matmul_tc"):
                refs.append(TileRef("C", rows, cols, REGISTER, Access.WRITE, True))
            if step == _cdiv(n, tk) - 1:
                refs.append(store("C", rows, cols))
            return refs
        case "attention_naive":
            if launch_index == 0:
                rows, cols = span(by, 16, n), span(bx, 16, n)
                return [read("Q", rows, (0, d), DRAM, head=bz),
                        read("K", cols, (0, d), DRAM, head=bz), store("S", rows, cols, bz)]
            if launch_index == 1:
                row = (bx, bx + 1)
                return [read("S", row, (0, n), DRAM, head=by), store("P", row, (0, n), by)]
            rows, cols = span(by, 16, n), span(bx, 16, d)
            return [read("P", rows, (0, n), DRAM, head=bz), read("V", (0, n), cols, DRAM, head=bz),
                    store("O", rows, cols, bz)]
        case "flash_attention_fwd" | "flash_attention_tc":
            rows = span(bx, defines["BR"], n)
            keys = span(step, defines["BC"], n)
            # fp32 keeps Q in SRAM; the tensor-core kernel stages it once and then holds it in
            # registers (mma fragments). Its Q, K, V are 2-byte bf16 in HBM; O is fp32.
            q_level = REGISTER if problem.kernel == "flash_attention_tc" and step > 0 else SRAM
            refs = [read("Q", rows, (0, d), q_level, hit=step > 0, head=by),
                    read("K", keys, (0, d), head=by), read("V", keys, (0, d), head=by)]
            if problem.spec.dtype == "bf16":
                refs = [replace(ref, element_bytes=BF16_BYTES) for ref in refs]
            if step == flash_tiles_for_block(bx, n, defines, problem.causal) - 1:
                refs.append(store("O", rows, (0, d), by))
            return refs
    raise ProblemError(f"unknown kernel {problem.kernel!r}")


def operand_grids(problem: Problem, defines: dict[str, int]) -> list[OperandGrid]:
    """How the replay draws each operand: tiles the size a block stages (16 for the untiled
    kernels), narrow head-dim matrices two characters per tile column."""
    n, d = problem.n, problem.d

    def matmul(c: tuple[int, int, int], a: tuple[int, int, int], b: tuple[int, int, int]):
        return [OperandGrid(name, (name,), n, n, *shape) for name, shape in
                (("C", c), ("A", a), ("B", b))]

    match problem.kernel:
        case "matmul_naive":
            return matmul((16, 16, 1), (16, 16, 1), (16, 16, 1))
        case "matmul_tiled":
            t = defines["TILE"]
            return matmul((t, t, 1), (t, t, 1), (t, t, 1))
        case "matmul_register_blocked" | "matmul_tc":
            bm, bn, bk = defines["BM"], defines["BN"], defines["BK"]
            return matmul((bm, bn, 2), (bm, bk, 1), (bk, bn, 2))
        case "attention_naive":
            return [OperandGrid("Q", ("Q",), n, d, 16, d, 2),
                    OperandGrid("K", ("K",), n, d, 16, d, 2),
                    OperandGrid("S/P in HBM", ("S", "P"), n, n, 16, 16, 1),
                    OperandGrid("V", ("V",), n, d, 16, 16, 1),
                    OperandGrid("O", ("O",), n, d, 16, 16, 1)]
        case "flash_attention_fwd" | "flash_attention_tc":
            br, bc = defines["BR"], defines["BC"]
            return [OperandGrid(name, (name,), n, d, rows, d, 2)
                    for name, rows in (("Q", br), ("K", bc), ("V", bc), ("O", br))]
    raise ProblemError(f"unknown kernel {problem.kernel!r}")


@dataclass
class KernelTiles:
    """The tile map (trace.TileMap) of one problem on the CUDA kernels: registers, shared
    memory (SRAM) and HBM; flash attention also draws its Q·Kᵀ tile pairs."""

    problem: Problem
    defines: dict[str, int]
    levels: tuple[MemoryLevel, ...] = (REGISTER, SRAM, DRAM)
    level_names: dict[MemoryLevel, str] = field(
        default_factory=lambda: {REGISTER: "registers", SRAM: "SRAM", DRAM: "HBM"}
    )

    def tiles(self, launch: int, block: tuple[int, int, int], step: int) -> list[TileRef]:
        return step_tiles(self.problem, self.defines, launch, block, step)

    def grids(self) -> list[OperandGrid]:
        return operand_grids(self.problem, self.defines)

    def work_grid(self) -> WorkGrid | None:
        problem, defines = self.problem, self.defines
        if problem.kernel not in FLASH_KERNELS:
            return None
        q_tiles, kv_tiles = _cdiv(problem.n, defines["BR"]), _cdiv(problem.n, defines["BC"])
        skipped = frozenset(
            (q_tile, step) for q_tile in range(q_tiles)
            for step in range(flash_tiles_for_block(q_tile, problem.n, defines, problem.causal),
                              kv_tiles)
        )
        return WorkGrid("Q·Kᵀ tiles", q_tiles, kv_tiles, skipped)


def step_flops(problem: Problem, defines: dict[str, int], launch_index: int,
               refs: list[TileRef]) -> int:
    """Multiply-add work of one tile step (2 flops per FMA), for the simulator's clock."""
    loads = {ref.operand: ref for ref in refs if ref.access is Access.READ}
    match problem.kernel:
        case "matmul_naive" | "matmul_tiled" | "matmul_register_blocked" | "matmul_tc":
            a, b = loads["A"], loads["B"]
            return 2 * (a.rows[1] - a.rows[0]) * (a.cols[1] - a.cols[0]) * (b.cols[1] - b.cols[0])
        case "attention_naive":
            if launch_index == 0:
                return 2 * loads["Q"].elements * (loads["K"].rows[1] - loads["K"].rows[0])
            if launch_index == 1:
                return 4 * loads["S"].elements
            return 2 * loads["P"].elements * (loads["V"].cols[1] - loads["V"].cols[0])
        case "flash_attention_fwd" | "flash_attention_tc":
            rows = min(defines["BR"], problem.n)
            keys = loads["K"].rows[1] - loads["K"].rows[0]
            return 4 * rows * keys * problem.d
    return 0


def extra_memory_bytes(problem: Problem) -> int:
    """Scratch HBM beyond inputs and output: the N×N score matrix for naive attention, else 0."""
    if problem.kernel == "attention_naive":
        return problem.heads * problem.n * problem.n * FLOAT_BYTES
    return 0


def attention_hbm_bytes(problem: Problem, defines: dict[str, int] | None = None) -> int:
    """HBM↔SRAM bytes the attention kernels move, by closed form (the simulator counts the same).

    Naive: the score kernel reads 16 Q rows and 16 K rows per 16×16 block and writes S (N²);
    softmax reads and writes every row (2·N²); P·V reads 16 P rows and a 16-column V strip per
    block and writes O. Flash: each block reads its Q tile once and every visible K/V tile once,
    and writes its O tile once; the N×N scores never leave the chip. The tensor-core flash
    reads 2-byte bf16 Q, K, V and writes fp32 O.
    """
    defines = defines or defines_for(problem)
    n, d, f = problem.n, problem.d, FLOAT_BYTES
    if problem.kernel == "attention_naive":
        row_tiles, d_tiles = _cdiv(n, 16), _cdiv(d, 16)
        scores = 2 * n * d * row_tiles + n * n  # Q and K rows once per block; S written
        softmax = 2 * n * n
        pv = n * n * d_tiles + n * d * row_tiles + n * d  # P rows, V strips, O written
        return problem.heads * (scores + softmax + pv) * f
    if problem.kernel in FLASH_KERNELS:
        inputs = BF16_BYTES if problem.spec.dtype == "bf16" else f
        total = 0
        for q_tile in range(_cdiv(n, defines["BR"])):
            rows = min(defines["BR"], n - q_tile * defines["BR"])
            tiles = flash_tiles_for_block(q_tile, n, defines, problem.causal)
            keys = min(tiles * defines["BC"], n)
            total += rows * d * (inputs + f) + 2 * keys * d * inputs  # Q in, O out; K, V in
        return problem.heads * total
    raise ProblemError(f"{problem.kernel} is not an attention kernel")
