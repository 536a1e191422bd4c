// C = A · B, the next step after shared-memory tiles: each block owns a BM×BN tile of C, stages
// BM×BK of A and BK×BN of B in shared memory per step, and each thread accumulates a TM×TN patch
// of C in registers, so one shared-memory read feeds TM (or TN) multiply-adds.
// Threads per block: (BM/TM)·(BN/TN); grid (⌈N/BN⌉, ⌈M/BM⌉). Shared memory: (BM + BN)·BK·4 bytes.
// Edges are bounds-checked, so any M, N, K works.
#include "trace.cuh"

#ifndef BM
#define BM 128
#endif
#ifndef BN
#define BN 128
#endif
#ifndef BK
#define BK 8
#endif
#ifndef TM
#define TM 8
#endif
#ifndef TN
#define TN 8
#endif

#define THREADS ((BM / TM) * (BN / TN))

extern "C" __global__ void __launch_bounds__(THREADS)
matmul_register_blocked(const float* __restrict__ A, const float* __restrict__ B,
                        float* __restrict__ C, int M, int N, int K,
                        TraceSlot* trace, int trace_steps) {
    // A is stored transposed (k-major) so a thread reads its TM values of a column contiguously.
    __shared__ float As[BK][BM];
    __shared__ float Bs[BK][BN];
    int tid = threadIdx.x;
    int thread_row = tid / (BN / TN);
    int thread_col = tid % (BN / TN);
    int block_row = blockIdx.y * BM;
    int block_col = blockIdx.x * BN;

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;
    float a_reg[TM];
    float b_reg[TN];

    int steps = (K + BK - 1) / BK;
    for (int step = 0; step < steps; ++step) {
        TRACE_START(t0)
        int k0 = step * BK;
        for (int i = tid; i < BM * BK; i += THREADS) {
            int r = i / BK, c = i % BK;
            int gr = block_row + r, gc = k0 + c;
            As[c][r] = (gr < M && gc < K) ? A[(size_t)gr * K + gc] : 0.0f;
        }
        for (int i = tid; i < BK * BN; i += THREADS) {
            int r = i / BN, c = i % BN;
            int gr = k0 + r, gc = block_col + c;
            Bs[r][c] = (gr < K && gc < N) ? B[(size_t)gr * N + gc] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; ++k) {
#pragma unroll
            for (int i = 0; i < TM; ++i) a_reg[i] = As[k][thread_row * TM + i];
#pragma unroll
            for (int j = 0; j < TN; ++j) b_reg[j] = Bs[k][thread_col * TN + j];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += a_reg[i] * b_reg[j];
        }
        __syncthreads();
        TRACE_END(trace, trace_steps, step, t0)
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        int r = block_row + thread_row * TM + i;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
            int c = block_col + thread_col * TN + j;
            if (r < M && c < N) C[(size_t)r * N + c] = acc[i][j];
        }
    }
}
