// C = A · B through shared memory: each block owns a TILE×TILE tile of C and walks the K
// dimension one TILE×TILE tile of A and of B at a time, so every value read from global memory
// is reused TILE times from shared memory (SRAM). Partial tiles at the edges are zero-padded.
// Block (TILE, TILE); grid (⌈N/TILE⌉, ⌈M/TILE⌉). Shared memory: 2·TILE²·4 bytes.
#include "trace.cuh"

#ifndef TILE
#define TILE 16
#endif

extern "C" __global__ void matmul_tiled(const float* __restrict__ A, const float* __restrict__ B,
                                        float* __restrict__ C, int M, int N, int K,
                                        TraceSlot* trace, int trace_steps) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * TILE + ty;
    int col = blockIdx.x * TILE + tx;
    float acc = 0.0f;
    int steps = (K + TILE - 1) / TILE;
    for (int step = 0; step < steps; ++step) {
        TRACE_START(t0)
        int a_col = step * TILE + tx;
        int b_row = step * TILE + ty;
        As[ty][tx] = (row < M && a_col < K) ? A[(size_t)row * K + a_col] : 0.0f;
        Bs[ty][tx] = (b_row < K && col < N) ? B[(size_t)b_row * N + col] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
        // Nobody may overwrite the tiles until everyone has used them.
        __syncthreads();
        TRACE_END(trace, trace_steps, step, t0)
    }
    if (row < M && col < N) C[(size_t)row * N + col] = acc;
}
