// Standard attention, the way a framework without fusion runs it: three kernels and an N×N
// score matrix in global memory (HBM) for every (batch, head).
//   1. attention_scores:  S = Q·Kᵀ·scale (−∞ above the diagonal when causal), written N×N
//   2. attention_softmax: P = softmax(S) row by row, in place
//   3. attention_pv:      O = P·V
// Q, K, V, O are (batch·heads, N, d) row-major fp32; S is (batch·heads, N, N).
#include "trace.cuh"

// −∞ without <math.h>, which NVRTC does not provide.
#define NEG_INF __int_as_float(0xff800000)

#ifndef SOFTMAX_THREADS
#define SOFTMAX_THREADS 128
#endif

// Block (16, 16); grid (⌈N/16⌉, ⌈N/16⌉, batch·heads). One thread per score.
extern "C" __global__ void attention_scores(const float* __restrict__ Q,
                                            const float* __restrict__ K,
                                            float* __restrict__ S, int N, int d, float scale,
                                            int causal, TraceSlot* trace, int trace_steps) {
    TRACE_START(t0)
    int i = blockIdx.y * blockDim.y + threadIdx.y;
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    size_t head = blockIdx.z;
    if (i < N && j < N) {
        const float* q = Q + (head * N + i) * d;
        const float* k = K + (head * N + j) * d;
        float acc = 0.0f;
        for (int x = 0; x < d; ++x) acc += q[x] * k[x];
        S[(head * N + i) * N + j] = (causal && j > i) ? NEG_INF : acc * scale;
    }
    __syncthreads();
    TRACE_END(trace, trace_steps, 0, t0)
}

// Block SOFTMAX_THREADS; grid (N, batch·heads). One block per row: max, then sum, then divide.
extern "C" __global__ void attention_softmax(float* __restrict__ S, int N,
                                             TraceSlot* trace, int trace_steps) {
    TRACE_START(t0)
    __shared__ float scratch[SOFTMAX_THREADS];
    float* row = S + ((size_t)blockIdx.y * N + blockIdx.x) * N;
    int t = threadIdx.x;

    float m = NEG_INF;
    for (int j = t; j < N; j += SOFTMAX_THREADS) m = fmaxf(m, row[j]);
    scratch[t] = m;
    __syncthreads();
    for (int half = SOFTMAX_THREADS / 2; half > 0; half /= 2) {
        if (t < half) scratch[t] = fmaxf(scratch[t], scratch[t + half]);
        __syncthreads();
    }
    m = scratch[0];
    __syncthreads();

    float sum = 0.0f;
    for (int j = t; j < N; j += SOFTMAX_THREADS) {
        float p = expf(row[j] - m);
        row[j] = p;
        sum += p;
    }
    scratch[t] = sum;
    __syncthreads();
    for (int half = SOFTMAX_THREADS / 2; half > 0; half /= 2) {
        if (t < half) scratch[t] += scratch[t + half];
        __syncthreads();
    }
    float inv = 1.0f / scratch[0];
    for (int j = t; j < N; j += SOFTMAX_THREADS) row[j] *= inv;
    __syncthreads();
    TRACE_END(trace, trace_steps, 0, t0)
}

// Block (16, 16); grid (⌈d/16⌉, ⌈N/16⌉, batch·heads). One thread per output value.
extern "C" __global__ void attention_pv(const float* __restrict__ P, const float* __restrict__ V,
                                        float* __restrict__ O, int N, int d,
                                        TraceSlot* trace, int trace_steps) {
    TRACE_START(t0)
    int i = blockIdx.y * blockDim.y + threadIdx.y;
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    size_t head = blockIdx.z;
    if (i < N && x < d) {
        const float* p = P + (head * N + i) * N;
        const float* v = V + head * N * d + x;
        float acc = 0.0f;
        for (int j = 0; j < N; ++j) acc += p[j] * v[(size_t)j * d];
        O[(head * N + i) * d + x] = acc;
    }
    __syncthreads();
    TRACE_END(trace, trace_steps, 0, t0)
}
