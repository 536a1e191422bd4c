// FlashAttention-2 forward pass: O = softmax(Q·Kᵀ·scale)·V without ever storing the N×N scores.
//
// Each block owns BR query rows of one (batch, head) and keeps them in shared memory (SRAM); it
// streams K and V through shared memory BC rows at a time. Each thread owns one query row and
// keeps, in registers, that row's running max m, running sum l and unnormalised output o[d].
// For every K/V tile it computes the BC scores (into shared memory), raises m if needed,
// rescales l and o by exp(m_old − m_new), and adds this tile's exp(s − m)·V. O is written once,
// divided by l. Static shared memory stops at 48 KiB, so HEAD_DIM > 64 takes BC = 16.
//
// Any N works: rows and keys past N are masked (partial last tiles). With causal = 1, key j is
// masked for query i when j > i, and K/V tiles wholly above the diagonal are skipped.
// Q, K, V, O are (batch·heads, N, HEAD_DIM) row-major fp32. Threads per block: BR;
// grid (⌈N/BR⌉, batch·heads). Shared memory: ((BR + 2·BC)·HEAD_DIM + BR·BC)·4 bytes.
#include "trace.cuh"

// −∞ without <math.h>, which NVRTC does not provide.
#define NEG_INF __int_as_float(0xff800000)

#ifndef HEAD_DIM
#define HEAD_DIM 64
#endif
#ifndef BR
#define BR 32
#endif
#ifndef BC
#define BC 32
#endif

extern "C" __global__ void __launch_bounds__(BR)
flash_attention_fwd(const float* __restrict__ Q, const float* __restrict__ K,
                    const float* __restrict__ V, float* __restrict__ O, int N, float scale,
                    int causal, TraceSlot* trace, int trace_steps) {
    // Q is stored transposed (Qs[x·BR + r]) so the 32 threads of a warp, each reading its own
    // row at the same x, hit 32 different banks.
    __shared__ float Qs[HEAD_DIM * BR];
    __shared__ float Ks[BC][HEAD_DIM];
    __shared__ float Vs[BC][HEAD_DIM];
    __shared__ float Ss[BC * BR];  // this tile's scores, transposed like Qs

    int r = threadIdx.x;
    int q_tile = blockIdx.x;
    size_t head = (size_t)blockIdx.y * N * HEAD_DIM;
    const float* Qh = Q + head;
    const float* Kh = K + head;
    const float* Vh = V + head;
    int row = q_tile * BR + r;

    for (int i = r; i < BR * HEAD_DIM; i += BR) {
        int rr = i / HEAD_DIM, x = i % HEAD_DIM;
        int g = q_tile * BR + rr;
        Qs[x * BR + rr] = g < N ? Qh[(size_t)g * HEAD_DIM + x] : 0.0f;
    }

    float o[HEAD_DIM];
#pragma unroll
    for (int x = 0; x < HEAD_DIM; ++x) o[x] = 0.0f;
    float m = NEG_INF;
    float l = 0.0f;

    int tiles = (N + BC - 1) / BC;
    if (causal) tiles = min(tiles, (q_tile * BR + BR - 1) / BC + 1);
    for (int step = 0; step < tiles; ++step) {
        TRACE_START(t0)
        int k0 = step * BC;
        for (int i = r; i < BC * HEAD_DIM; i += BR) {
            int j = i / HEAD_DIM, x = i % HEAD_DIM;
            int g = k0 + j;
            Ks[j][x] = g < N ? Kh[(size_t)g * HEAD_DIM + x] : 0.0f;
            Vs[j][x] = g < N ? Vh[(size_t)g * HEAD_DIM + x] : 0.0f;
        }
        __syncthreads();
        if (row < N) {
            // Scores go to shared memory, not a register array, so the key loop need not be
            // unrolled (fully unrolled it takes NVRTC minutes and spills at HEAD_DIM = 128).
            float tile_max = NEG_INF;
#pragma unroll 1
            for (int j = 0; j < BC; ++j) {
                float acc = 0.0f;
#pragma unroll 16
                for (int x = 0; x < HEAD_DIM; ++x) acc += Qs[x * BR + r] * Ks[j][x];
                int key = k0 + j;
                bool visible = key < N && (!causal || key <= row);
                float score = visible ? acc * scale : NEG_INF;
                Ss[j * BR + r] = score;
                tile_max = fmaxf(tile_max, score);
            }
            float m_new = fmaxf(m, tile_max);
            // A row that has seen no visible key yet keeps m = −∞, l = 0, o = 0.
            if (m_new != NEG_INF) {
                float alpha = expf(m - m_new);
                float p_sum = 0.0f;
#pragma unroll
                for (int x = 0; x < HEAD_DIM; ++x) o[x] *= alpha;
#pragma unroll 1
                for (int j = 0; j < BC; ++j) {
                    float p = expf(Ss[j * BR + r] - m_new);
                    p_sum += p;
#pragma unroll
                    for (int x = 0; x < HEAD_DIM; ++x) o[x] += p * Vs[j][x];
                }
                l = l * alpha + p_sum;
                m = m_new;
            }
        }
        // K/V tiles may be overwritten only after every row has used them.
        __syncthreads();
        TRACE_END(trace, trace_steps, step, t0)
    }
    if (row < N) {
        float inv = 1.0f / l;
        float* out = O + head + (size_t)row * HEAD_DIM;
#pragma unroll
        for (int x = 0; x < HEAD_DIM; ++x) out[x] = o[x] * inv;
    }
}
