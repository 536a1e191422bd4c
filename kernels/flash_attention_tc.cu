// FlashAttention-2 forward pass on tensor cores: bf16 Q, K, V in, fp32 O out.
//
// A block of BR/16 warps owns BR query rows of one (batch, head); the grid is
// (⌈N/BR⌉, batch·heads). Each warp owns 16 query rows and keeps their Q, as mma.sync A
// fragments, in registers for the whole loop (FA2's split-Q: warps never exchange results).
// K and V stream through shared memory BC keys at a time. Per K/V tile a warp computes its
// 16 × BC scores S = Q·Kᵀ with `mma.sync.m16n8k16` (bf16 in, fp32 accumulate), runs the online
// softmax on them in fp32 (the four lanes that share a row reduce by shuffles; log2 domain),
// rounds P to bf16 — as production kernels do — and, since the S accumulator layout is exactly
// the A fragment layout of the next product, feeds P straight from registers into
// O += P·V, V's B fragments coming from shared memory by `ldmatrix.trans`. O stays in fp32
// registers and is written once, divided by the row sum l (summed from P before rounding).
//
// NVRTC has no <mma.h>, so the tensor-core instructions are inline PTX (sm_80 and newer).
// Any N (masked rows and keys), causal or not, HEAD_DIM ≤ 128 (padded with zeros to DPAD, a
// multiple of 16). All shared memory is dynamic; bytes: (max(BR, BC) + BC)·(DPAD + 8)·2 —
// catalog.dynamic_shared_bytes. Rows are padded by 8 bf16 (16 bytes) so the fragment loads and
// ldmatrix rows fall in distinct banks.
#include "trace.cuh"

#define NEG_INF __int_as_float(0xff800000)
#define LOG2E 1.4426950408889634f

#ifndef HEAD_DIM
#define HEAD_DIM 64
#endif
#ifndef BR
#define BR 64
#endif
#ifndef BC
#define BC 64
#endif

#define WARPS (BR / 16)
#define THREADS (WARPS * 32)
#define DPAD (((HEAD_DIM + 15) / 16) * 16)
#define STRIDE (DPAD + 8)            // bf16 per shared row (Q, K and V alike)
#define QK_ROWS (BR > BC ? BR : BC)  // the Q staging area is reused for K
#define DK (DPAD / 16)               // k-steps of S = Q·Kᵀ
#define DN (DPAD / 8)                // n-tiles of O
#define NT (BC / 8)                  // n-tiles of S
#define KK (BC / 16)                 // k-steps of O += P·V

static_assert(BR % 16 == 0 && BR >= 16 && BR <= 128, "BR: a multiple of 16, at most 128");
static_assert(BC % 16 == 0 && BC >= 16 && BC <= 128, "BC: a multiple of 16, at most 128");
static_assert(HEAD_DIM >= 1 && HEAD_DIM <= 128, "HEAD_DIM ≤ 128");

typedef unsigned short bf16_bits;

__device__ __forceinline__ void mma_bf16(float (&acc)[4], const unsigned (&a)[4], unsigned b0,
                                         unsigned b1) {
    asm(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
        : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats → one register of two bf16, rounded to nearest even; `low` in the low half.
__device__ __forceinline__ unsigned pack_bf16(float low, float high) {
    unsigned packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(high), "f"(low));
    return packed;
}

__device__ __forceinline__ unsigned load_pair(const bf16_bits* p) {
    return *reinterpret_cast<const unsigned*>(p);
}

// rows × DPAD bf16 from HBM (row stride HEAD_DIM) into shared memory (row stride STRIDE); rows
// past N and columns past HEAD_DIM become zeros (0·garbage could be NaN).
__device__ __forceinline__ void load_tile(bf16_bits* dst, const bf16_bits* src, int first, int rows,
                                          int N) {
#if HEAD_DIM % 8 == 0
    for (int i = threadIdx.x; i < rows * (DPAD / 8); i += THREADS) {
        int r = i / (DPAD / 8), x = 8 * (i % (DPAD / 8));
        uint4 chunk = make_uint4(0, 0, 0, 0);
        if (first + r < N && x < HEAD_DIM)
            chunk = *reinterpret_cast<const uint4*>(src + (size_t)(first + r) * HEAD_DIM + x);
        *reinterpret_cast<uint4*>(dst + r * STRIDE + x) = chunk;
    }
#else
    for (int i = threadIdx.x; i < rows * DPAD; i += THREADS) {
        int r = i / DPAD, x = i % DPAD;
        dst[r * STRIDE + x] =
            first + r < N && x < HEAD_DIM ? src[(size_t)(first + r) * HEAD_DIM + x] : 0;
    }
#endif
}

extern "C" __global__ void __launch_bounds__(THREADS, 1)
flash_attention_tc(const bf16_bits* __restrict__ Q, const bf16_bits* __restrict__ K,
                   const bf16_bits* __restrict__ V, float* __restrict__ O, int N, float scale,
                   int causal, TraceSlot* trace, int trace_steps) {
    extern __shared__ uint4 shared_chunks[];
    bf16_bits* QKs = reinterpret_cast<bf16_bits*>(shared_chunks);  // [QK_ROWS][STRIDE]
    bf16_bits* Vs = QKs + QK_ROWS * STRIDE;                         // [BC][STRIDE]

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane / 4, t = lane % 4;  // mma fragment coordinates: row group, pair
    const int q0 = blockIdx.x * BR;
    const size_t head = (size_t)blockIdx.y * N * HEAD_DIM;
    const float scale_log2 = scale * LOG2E;
    const int row0 = q0 + warp * 16 + g, row1 = row0 + 8;  // the two rows this lane holds

    // Q tile → shared → this warp's A fragments, kept in registers for the whole loop.
    load_tile(QKs, Q + head, q0, BR, N);
    __syncthreads();
    unsigned qf[DK][4];
    {
        const bf16_bits* q = QKs + (warp * 16 + g) * STRIDE + 2 * t;
#pragma unroll
        for (int k = 0; k < DK; ++k) {
            qf[k][0] = load_pair(q + 16 * k);
            qf[k][1] = load_pair(q + 8 * STRIDE + 16 * k);
            qf[k][2] = load_pair(q + 16 * k + 8);
            qf[k][3] = load_pair(q + 8 * STRIDE + 16 * k + 8);
        }
    }
    __syncthreads();  // the staging area becomes the K tile

    float o[DN][4];
#pragma unroll
    for (int n = 0; n < DN; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float m[2] = {NEG_INF, NEG_INF}, l[2] = {0.0f, 0.0f};
    const unsigned v_base = (unsigned)__cvta_generic_to_shared(Vs + (lane % 16) * STRIDE);

    int tiles = (N + BC - 1) / BC;
    if (causal) tiles = min(tiles, (q0 + BR - 1) / BC + 1);
    for (int step = 0; step < tiles; ++step) {
        TRACE_START(t0)
        const int k0 = step * BC;
        load_tile(QKs, K + head, k0, BC, N);
        load_tile(Vs, V + head, k0, BC, N);
        __syncthreads();

        // S = Q·Kᵀ: NT n-tiles of 8 keys; B fragment = K[key g][dims 2t, 2t+1 (+8)].
        float s[NT][4];
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
            const bf16_bits* k = QKs + (8 * n + g) * STRIDE + 2 * t;
#pragma unroll
            for (int kk = 0; kk < DK; ++kk)
                mma_bf16(s[n], qf[kk], load_pair(k + 16 * kk), load_pair(k + 16 * kk + 8));
        }

        // Online softmax in fp32: s[n][0..1] are row0's keys 8n+2t, +1; s[n][2..3] row1's.
        float tile_max[2] = {NEG_INF, NEG_INF};
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                int key = k0 + 8 * n + 2 * t + (e & 1);
                int row = e < 2 ? row0 : row1;
                bool visible = key < N && (!causal || key <= row);
                s[n][e] = visible ? s[n][e] * scale_log2 : NEG_INF;
                tile_max[e / 2] = fmaxf(tile_max[e / 2], s[n][e]);
            }
        float m_use[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
            tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
            float m_new = fmaxf(m[h], tile_max[h]);
            m_use[h] = m_new == NEG_INF ? 0.0f : m_new;
            float alpha = exp2f(m[h] - m_use[h]);
            m[h] = m_new;
            l[h] *= alpha;  // this lane's share of the row sum
#pragma unroll
            for (int n = 0; n < DN; ++n) {
                o[n][2 * h] *= alpha;
                o[n][2 * h + 1] *= alpha;
            }
        }
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                s[n][e] = exp2f(s[n][e] - m_use[e / 2]);
                l[e / 2] += s[n][e];
            }

        // O += P·V: P, rounded to bf16, is the A fragment straight from the S registers.
#pragma unroll
        for (int kk = 0; kk < KK; ++kk) {
            unsigned p[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]),
                             pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                             pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                             pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int n = 0; n < DN; ++n) {
                unsigned b0, b1;
                // Lanes 0–15 name the rows (keys 16kk + lane) of two 8×8 tiles of V at dims
                // 8n…8n+7; .trans hands each lane V[keys 2t, 2t+1 (+8)][dim g].
                unsigned address = v_base + (unsigned)((16 * kk * STRIDE + 8 * n) * 2);
                asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];"
                             : "=r"(b0), "=r"(b1) : "r"(address));
                mma_bf16(o[n], p, b0, b1);
            }
        }
        __syncthreads();  // every warp is done with this K/V tile
        TRACE_END(trace, trace_steps, step, t0)
    }

#pragma unroll
    for (int h = 0; h < 2; ++h) {
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
        int row = h == 0 ? row0 : row1;
        if (row < N) {
            float inv = 1.0f / l[h];
            float* out = O + head + (size_t)row * HEAD_DIM;
#pragma unroll
            for (int n = 0; n < DN; ++n)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    int x = 8 * n + 2 * t + e;
                    if (x < HEAD_DIM) out[x] = o[n][2 * h + e] * inv;
                }
        }
    }
}
