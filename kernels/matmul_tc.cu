// C = A · B on the tensor cores: A and B bf16 (stored as raw 16-bit patterns), fp32 accumulate
// and fp32 C. Each block owns a BM×BN tile of C and walks K in BK-deep steps: it stages BM×BK of
// A and BK×BN of B in shared memory (16-byte loads when a row is 16-byte aligned, element loads
// with bounds checks otherwise, zero-padded at the edges), then each of its warps computes a
// WM×WN patch of C with `mma.sync.m16n8k16` (16×8 outputs, 16 deep, per instruction), its
// fragments loaded from shared memory by `ldmatrix` (A as stored, B transposed on the fly), its
// accumulators in registers: (WM/16)·(WN/8) tiles × 4 floats per thread.
// Inline PTX, no <mma.h>: NVRTC from pip ships no such header. Needs sm_80 or newer.
// Warps per block: (BM/WM)·(BN/WN); block (32·warps); grid (⌈N/BN⌉, ⌈M/BM⌉).
// Shared memory: (BM·(BK + PAD) + BK·(BN + PAD))·2 bytes (static; 18,944 bytes by default).
//
// Banks (PAD = 8 bf16 = 16 bytes per row): ldmatrix serves one 8×8 matrix, 8 rows of 16
// bytes, per phase. An As row is (BK + 8)·2 = 80 bytes = 20 words: rows j = 0..7 start at bank
// 20j mod 32 = 0, 20, 8, 28, 16, 4, 24, 12, eight distinct groups of 4 banks. A Bs row is
// (BN + 8)·2 = 272 bytes = 68 words ≡ 4: rows start at 4j, again eight distinct groups. Without
// the padding every row would start at bank 0: an 8-way conflict on every ldmatrix.
//
// Precision: bf16 × bf16 products are exact in fp32 (8-bit significands, 16-bit product); the
// only rounding is the fp32 accumulation, so |C − A·B| ≤ γ(K)·(|A|·|B|), γ(K) ≈ K·2⁻²⁴ in
// round-to-nearest (tensor cores may truncate inside one mma: allow twice that on a GPU).
#include "trace.cuh"

#ifndef BM
#define BM 128
#endif
#ifndef BN
#define BN 128
#endif
#ifndef BK
#define BK 32  // a multiple of 16 (the mma's k)
#endif
#ifndef WM
#define WM 64  // a multiple of 16
#endif
#ifndef WN
#define WN 32  // a multiple of 16 (ldmatrix.x4.trans loads two n8 tiles)
#endif
#ifndef PAD
#define PAD 8  // bf16 per shared row: 16 bytes keeps rows 16-byte aligned for ldmatrix
#endif

#define WARPS_N (BN / WN)
#define THREADS (32 * (BM / WM) * WARPS_N)
#define MT (WM / 16)  // mma tiles per warp along M
#define NT (WN / 8)   // and along N

typedef unsigned short bf16_bits;

__device__ __forceinline__ unsigned shared_address(const void* pointer) {
    return static_cast<unsigned>(__cvta_generic_to_shared(pointer));
}

// Rows of `rows`×`cols` bf16 tile from a row-major matrix with `ld` columns, into a shared tile
// with row stride `stride`, 8 elements (16 bytes) per chunk.
template <int ROWS_, int COLS_, int STRIDE_>
__device__ __forceinline__ void stage_tile(bf16_bits* tile, const bf16_bits* __restrict__ g,
                                           int row0, int col0, int rows, int cols, int ld,
                                           int tid) {
    const bool aligned = (ld % 8) == 0;
    for (int chunk = tid; chunk < ROWS_ * COLS_ / 8; chunk += THREADS) {
        int r = chunk / (COLS_ / 8), c = (chunk % (COLS_ / 8)) * 8;
        int gr = row0 + r, gc = col0 + c;
        bf16_bits* dst = tile + r * STRIDE_ + c;
        if (aligned && gr < rows && gc + 8 <= cols) {
            *reinterpret_cast<uint4*>(dst) =
                *reinterpret_cast<const uint4*>(g + (size_t)gr * ld + gc);
        } else {
#pragma unroll
            for (int e = 0; e < 8; ++e)
                dst[e] = (gr < rows && gc + e < cols) ? g[(size_t)gr * ld + gc + e] : 0;
        }
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
matmul_tc(const unsigned short* __restrict__ A, const unsigned short* __restrict__ B,
          float* __restrict__ C, int M, int N, int K,
          TraceSlot* trace, int trace_steps) {
    __shared__ __align__(16) bf16_bits As[BM][BK + PAD];
    __shared__ __align__(16) bf16_bits Bs[BK][BN + PAD];
    int tid = threadIdx.x;
    int lane = tid % 32, warp = tid / 32;
    int warp_row = (warp / WARPS_N) * WM, warp_col = (warp % WARPS_N) * WN;
    int block_row = blockIdx.y * BM, block_col = blockIdx.x * BN;

    float acc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;

    int steps = (K + BK - 1) / BK;
    for (int step = 0; step < steps; ++step) {
        TRACE_START(t0)
        int k0 = step * BK;
        stage_tile<BM, BK, BK + PAD>(&As[0][0], A, block_row, k0, M, K, K, tid);
        stage_tile<BK, BN, BN + PAD>(&Bs[0][0], B, k0, block_col, K, N, N, tid);
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            unsigned a[MT][4], b[NT][2];
            // A: lanes 0-15 point at rows 0-15 (k 0-7), lanes 16-31 at rows 0-15 (k 8-15):
            // the four 8×8 matrices are a0..a3 of the m16n8k16 A fragment.
#pragma unroll
            for (int i = 0; i < MT; ++i) {
                unsigned address = shared_address(
                    &As[warp_row + i * 16 + lane % 16][kk + (lane / 16) * 8]);
                asm volatile(
                    "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                    : "=r"(a[i][0]), "=r"(a[i][1]), "=r"(a[i][2]), "=r"(a[i][3])
                    : "r"(address));
            }
            // B: lanes 0-15 point at k rows 0-15 of columns n..n+7, lanes 16-31 at the same
            // rows of n+8..n+15; .trans hands each thread the k pairs of its column: b0, b1 of
            // two n8 tiles.
#pragma unroll
            for (int j = 0; j < NT; j += 2) {
                unsigned address = shared_address(
                    &Bs[kk + lane % 16][warp_col + j * 8 + (lane / 16) * 8]);
                asm volatile(
                    "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                    : "=r"(b[j][0]), "=r"(b[j][1]), "=r"(b[j + 1][0]), "=r"(b[j + 1][1])
                    : "r"(address));
            }
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int j = 0; j < NT; ++j)
                    asm volatile(
                        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                        : "+f"(acc[i][j][0]), "+f"(acc[i][j][1]), "+f"(acc[i][j][2]),
                          "+f"(acc[i][j][3])
                        : "r"(a[i][0]), "r"(a[i][1]), "r"(a[i][2]), "r"(a[i][3]),
                          "r"(b[j][0]), "r"(b[j][1]));
        }
        // Nobody may overwrite the tiles until every warp has read them.
        __syncthreads();
        TRACE_END(trace, trace_steps, step, t0)
    }
    // Accumulator layout: thread (group g = lane / 4, t = lane % 4) holds rows g and g + 8,
    // columns 2t and 2t + 1 of each 16×8 tile.
    int g = lane / 4, t = lane % 4;
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                int r = block_row + warp_row + i * 16 + g + (e / 2) * 8;
                int c = block_col + warp_col + j * 8 + 2 * t + e % 2;
                if (r < M && c < N) C[(size_t)r * N + c] = acc[i][j][e];
            }
}
