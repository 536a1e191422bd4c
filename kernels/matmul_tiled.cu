// C = A · B through shared memory: each block owns a TILE×TILE tile of C and walks the K
// dimension one TILE×TILE tile of A and of B at a time, so every value read from global memory
// is reused TILE times from shared memory (SRAM). Partial tiles at the edges are zero-padded.
//
// Several outputs per thread: the block has TILE×(TILE/TM) threads and each thread keeps TM
// outputs of one column of C in registers (rows ty, ty + TILE/TM, …), so one value of B read
// from shared memory feeds TM multiply-adds. A warp is one row of threads (same ty, 32 tx):
// its A reads are one address (a broadcast) and its B reads 32 consecutive words (32 banks),
// so neither conflicts; the loads of a tile are coalesced 128-byte rows.
//
// Shared loads per FMA, inner loop over 4 values of k (TILE = 32, TM = 4):
//   A: TM rows × one float4 (As[r][k..k+3], ld.shared.v4) = 4 loads
//   B: 4 values of k × one word (Bs[k][tx])                = 4 loads
//   FMAs: TM × 4 = 16  →  8 shared loads per 16 FMAs (0.5 per FMA).
// One output per thread at TILE 16 took 20 per 16 (4 float4 of A + 16 words of B): 2.5× more.
// Block (TILE, TILE/TM); grid (⌈N/TILE⌉, ⌈M/TILE⌉). Shared memory: 2·TILE²·4 bytes (8 KiB).
#include "trace.cuh"

#ifndef TILE
#define TILE 32
#endif
#ifndef TM
#define TM 4  // outputs per thread, one column of C; TILE must be a multiple of TM and of 4
#endif

#define ROWS (TILE / TM)  // threads per block along y

// No __launch_bounds__(256): with it ptxas 13.0 held this kernel to 40 registers and spilled.
extern "C" __global__ void
matmul_tiled(const float* __restrict__ A, const float* __restrict__ B,
             float* __restrict__ C, int M, int N, int K,
             TraceSlot* trace, int trace_steps) {
    // 16-byte aligned rows: the inner loop reads A four values of k at a time (ld.shared.v4).
    __shared__ float As[TILE][TILE] __align__(16);
    __shared__ float Bs[TILE][TILE];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row0 = blockIdx.y * TILE;
    int col = blockIdx.x * TILE + tx;
    float acc[TM];
#pragma unroll
    for (int i = 0; i < TM; ++i) acc[i] = 0.0f;
    int steps = (K + TILE - 1) / TILE;
    for (int step = 0; step < steps; ++step) {
        TRACE_START(t0)
        int a_col = step * TILE + tx;
#pragma unroll
        for (int i = 0; i < TM; ++i) {
            int r = ty + i * ROWS;  // this thread loads TM rows of each tile, ROWS apart
            int a_row = row0 + r, b_row = step * TILE + r;
            As[r][tx] = (a_row < M && a_col < K) ? A[(size_t)a_row * K + a_col] : 0.0f;
            Bs[r][tx] = (b_row < K && col < N) ? B[(size_t)b_row * N + col] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; k += 4) {
            float b[4];
#pragma unroll
            for (int j = 0; j < 4; ++j) b[j] = Bs[k + j][tx];
#pragma unroll
            for (int i = 0; i < TM; ++i) {
                float4 a = *reinterpret_cast<const float4*>(&As[ty + i * ROWS][k]);
                acc[i] += a.x * b[0];
                acc[i] += a.y * b[1];
                acc[i] += a.z * b[2];
                acc[i] += a.w * b[3];
            }
        }
        // Nobody may overwrite the tiles until everyone has used them.
        __syncthreads();
        TRACE_END(trace, trace_steps, step, t0)
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        int row = row0 + ty + i * ROWS;
        if (row < M && col < N) C[(size_t)row * N + col] = acc[i];
    }
}
