// C = A · B, the next step after shared-memory tiles: each block owns a BM×BN tile of C, stages
// BM×BK of A and BK×BN of B in shared memory per step, and each thread accumulates a TM×TN patch
// of C in registers, so one shared-memory read feeds TM (or TN) multiply-adds.
// Threads per block: (BM/TM)·(BN/TN); grid (⌈N/BN⌉, ⌈M/BM⌉).
// Shared memory: (BM + APAD + BN)·BK·4 bytes. Edges are bounds-checked, so any M, N, K works.
//
// How the 32 banks (4-byte words) fall, BM = BN = 128, BK = 8, TM = TN = 8, APAD = 4:
// * A is stored transposed (k-major, As[k][m]) so a thread reads its TM values of a column as
//   float4s. A warp's store loop writes lanes (c = lane % 8, r = r0 + lane / 8) to As[c][r].
//   Unpadded (row stride 128 words ≡ 0 mod 32) the bank is r mod 32: the 8 lanes with one r hit
//   one bank, an 8-way conflict. Padded by APAD = 4 words (stride 132 ≡ 4), the bank is
//   4c + r - r0 + const: c ∈ 0..7, r - r0 ∈ 0..3 → 32 distinct banks, conflict-free.
// * B reads are float4s, served a quarter-warp (8 lanes) per phase. With TN contiguous columns
//   per thread, lane t reads words 8t..8t+3: lanes t and t + 4 share banks, a 2-way conflict.
//   Here a thread's TN columns are TN/4 float4 groups BN·4/TN apart (columns 4t..4t+3 and
//   64 + 4t..64 + 4t+3): a phase's 8 lanes read 32 consecutive words, conflict-free.
// * A reads: the warp's 32 lanes are 2 thread rows, so 2 float4 addresses (TM words apart, in
//   different banks), broadcast to 16 lanes each: conflict-free.
// * B stores: consecutive lanes write consecutive columns of a row: conflict-free.
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
#define TM 8  // a multiple of 4
#endif
#ifndef TN
#define TN 8  // a multiple of 4
#endif
#ifndef APAD
#define APAD 4  // words of padding per As row: a multiple of 4 keeps float4 rows aligned
#endif

#define THREADS ((BM / TM) * (BN / TN))
#define TN4 (TN / 4)             // float4 groups of columns per thread
#define GROUP_STRIDE (BN / TN4)  // columns between a thread's groups

extern "C" __global__ void __launch_bounds__(THREADS)
matmul_register_blocked(const float* __restrict__ A, const float* __restrict__ B,
                        float* __restrict__ C, int M, int N, int K,
                        TraceSlot* trace, int trace_steps) {
    __shared__ __align__(16) float As[BK][BM + APAD];
    __shared__ __align__(16) float Bs[BK][BN];
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
            for (int i = 0; i < TM; i += 4) {
                float4 a = *reinterpret_cast<const float4*>(&As[k][thread_row * TM + i]);
                a_reg[i] = a.x; a_reg[i + 1] = a.y; a_reg[i + 2] = a.z; a_reg[i + 3] = a.w;
            }
#pragma unroll
            for (int g = 0; g < TN4; ++g) {
                float4 b = *reinterpret_cast<const float4*>(
                    &Bs[k][g * GROUP_STRIDE + thread_col * 4]);
                b_reg[4 * g] = b.x; b_reg[4 * g + 1] = b.y;
                b_reg[4 * g + 2] = b.z; b_reg[4 * g + 3] = b.w;
            }
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
            int c = block_col + (j / 4) * GROUP_STRIDE + thread_col * 4 + j % 4;
            if (r < M && c < N) C[(size_t)r * N + c] = acc[i][j];
        }
    }
}
