// C = A · B, one thread per element of C, every operand read straight from global memory (HBM).
// A is M×K, B is K×N, C is M×N, all row-major fp32. Block (16, 16); grid (⌈N/16⌉, ⌈M/16⌉).
#include "trace.cuh"

extern "C" __global__ void matmul_naive(const float* __restrict__ A, const float* __restrict__ B,
                                        float* __restrict__ C, int M, int N, int K,
                                        TraceSlot* trace, int trace_steps) {
    TRACE_START(t0)
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (row < M && col < N) {
        float acc = 0.0f;
        for (int k = 0; k < K; ++k) acc += A[(size_t)row * K + k] * B[(size_t)k * N + col];
        C[(size_t)row * N + col] = acc;
    }
    // The whole block is one "tile step"; wait for every thread so the end time covers them all.
    __syncthreads();
    TRACE_END(trace, trace_steps, 0, t0)
}
