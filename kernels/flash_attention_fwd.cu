// FlashAttention-2 forward pass, fp32 on the FMA units: O = softmax(Q·Kᵀ·scale)·V without ever
// storing the N×N scores.
//
// A block of 128 threads (4 warps) owns BR query rows of one (batch, head); the grid is
// (⌈N/BR⌉, batch·heads). The block stages its Q tile in shared memory once, then streams K and V
// through shared memory BC rows at a time. Its threads form 16 row groups × 8 column groups:
// thread (rg, cg) owns TM = BR/16 query rows, and for each K/V tile computes a TM × BC/8 patch
// of scores (keys cg, cg+8, …) in registers, register-blocked like a matmul: per head-dim
// element it loads TM Q values and BC/8 K values and does TM·BC/8 independent FMAs (ILP: the
// accumulators never wait on one another). The 8 threads of a row group are 8 consecutive
// lanes of one warp, so the row max and row sum are warp shuffles; each warp owns 16·TM/4 rows
// of its own and never waits on another warp except to share the K/V tiles (FA2's split-Q).
// Online softmax in the log2 domain: raise m, rescale l and O by 2^(m_old − m_new), add
// 2^(s − m)·V. P goes through the warp's rows of shared memory to the P·V product, in which
// thread (rg, cg) owns TM rows × DPAD/8 columns of O (16-byte chunks 4·cg + 32·c, conflict-free).
//
// Any N works (rows and keys past N are masked); with causal = 1 key j is masked for query i
// when j > i and K/V tiles wholly above the diagonal are skipped. Q, K, V, O are
// (batch·heads, N, HEAD_DIM) row-major fp32, HEAD_DIM ≤ 128.
//
// All shared memory is dynamic (extern __shared__): the tile sizes are picked per device by
// kernels/budget.py, and above 48 KiB the launch raises the function's dynamic-shared limit.
// Bytes: (BC·DPAD + HEAD_DIM·BR + BC·KS_STRIDE + BR·(BC+1))·4 — catalog.dynamic_shared_bytes.
#include "trace.cuh"

// −∞ without <math.h>, which NVRTC does not provide.
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

#define THREADS 128
#define COL_GROUPS 8
#define TM (BR / 16)                               // query rows per thread
#define KPT (BC / COL_GROUPS)                      // keys per thread per K/V tile
#define DPAD (((HEAD_DIM + 31) / 32) * 32)         // O columns, padded to 32
#define DCH (DPAD / 32)                            // 4-float chunks of O per thread
#define KS_STRIDE ((HEAD_DIM % 2) ? HEAD_DIM : HEAD_DIM + 1)  // odd: 8 keys, 8 banks
#define PS_STRIDE (BC + 1)

static_assert(BR % 16 == 0 && BR >= 16 && BR <= 64, "BR: 16, 32, 48 or 64");
static_assert(BC % COL_GROUPS == 0 && BC <= 64, "BC: a multiple of 8, at most 64");
static_assert(HEAD_DIM >= 1 && HEAD_DIM <= 128, "HEAD_DIM ≤ 128");

extern "C" __global__ void __launch_bounds__(THREADS)
flash_attention_fwd(const float* __restrict__ Q, const float* __restrict__ K,
                    const float* __restrict__ V, float* __restrict__ O, int N, float scale,
                    int causal, TraceSlot* trace, int trace_steps) {
    extern __shared__ float4 shared_words[];
    float* Vs = reinterpret_cast<float*>(shared_words);  // [BC][DPAD], 16-byte rows
    float* Qs = Vs + BC * DPAD;                            // [HEAD_DIM][BR]: Q transposed
    float* Ks = Qs + HEAD_DIM * BR;                        // [BC][KS_STRIDE]
    float* Ps = Ks + BC * KS_STRIDE;                       // [BR][PS_STRIDE]: this tile's P

    const int tid = threadIdx.x;
    const int rg = tid / COL_GROUPS, cg = tid % COL_GROUPS;
    const int q0 = blockIdx.x * BR;
    const size_t head = (size_t)blockIdx.y * N * HEAD_DIM;
    const float* Qh = Q + head;
    const float* Kh = K + head;
    const float* Vh = V + head;
    const float scale_log2 = scale * LOG2E;

    // Q once, transposed so a thread's TM rows at one head-dim element are adjacent; the row
    // index runs fastest so the shared-memory stores never collide. V's pad columns are zeroed
    // once: the tile loads below never write them.
    for (int i = tid; i < BR * HEAD_DIM; i += THREADS) {
        int r = i % BR, x = i / BR;
        int g = q0 + r;
        Qs[x * BR + r] = g < N ? Qh[(size_t)g * HEAD_DIM + x] : 0.0f;
    }
    if (DPAD > HEAD_DIM) {
        for (int i = tid; i < BC * (DPAD - HEAD_DIM); i += THREADS) {
            int j = i / (DPAD - HEAD_DIM), x = HEAD_DIM + i % (DPAD - HEAD_DIM);
            Vs[j * DPAD + x] = 0.0f;
        }
    }

    float o[TM][DCH][4];
    float m[TM], l[TM];
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        m[i] = NEG_INF;
        l[i] = 0.0f;
#pragma unroll
        for (int c = 0; c < DCH; ++c)
#pragma unroll
            for (int e = 0; e < 4; ++e) o[i][c][e] = 0.0f;
    }

    int tiles = (N + BC - 1) / BC;
    if (causal) tiles = min(tiles, (q0 + BR - 1) / BC + 1);
    for (int step = 0; step < tiles; ++step) {
        TRACE_START(t0)
        const int k0 = step * BC;
#if HEAD_DIM % 4 == 0
        for (int i = tid; i < BC * HEAD_DIM / 4; i += THREADS) {
            int j = i / (HEAD_DIM / 4), x = 4 * (i % (HEAD_DIM / 4));
            int g = k0 + j;
            float4 k4 = make_float4(0.0f, 0.0f, 0.0f, 0.0f), v4 = k4;
            if (g < N) {
                k4 = *reinterpret_cast<const float4*>(Kh + (size_t)g * HEAD_DIM + x);
                v4 = *reinterpret_cast<const float4*>(Vh + (size_t)g * HEAD_DIM + x);
            }
            float* kd = Ks + j * KS_STRIDE + x;
            kd[0] = k4.x; kd[1] = k4.y; kd[2] = k4.z; kd[3] = k4.w;
            *reinterpret_cast<float4*>(Vs + j * DPAD + x) = v4;
        }
#else
        for (int i = tid; i < BC * HEAD_DIM; i += THREADS) {
            int j = i / HEAD_DIM, x = i % HEAD_DIM;
            int g = k0 + j;
            Ks[j * KS_STRIDE + x] = g < N ? Kh[(size_t)g * HEAD_DIM + x] : 0.0f;
            Vs[j * DPAD + x] = g < N ? Vh[(size_t)g * HEAD_DIM + x] : 0.0f;
        }
#endif
        __syncthreads();

        // S patch: TM rows × KPT keys, TM·KPT independent accumulators.
        float s[TM][KPT];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < KPT; ++j) s[i][j] = 0.0f;
#pragma unroll 4
        for (int x = 0; x < HEAD_DIM; ++x) {
            float q[TM], k[KPT];
#pragma unroll
            for (int i = 0; i < TM; ++i) q[i] = Qs[x * BR + rg * TM + i];
#pragma unroll
            for (int j = 0; j < KPT; ++j) k[j] = Ks[(cg + COL_GROUPS * j) * KS_STRIDE + x];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < KPT; ++j) s[i][j] = fmaf(q[i], k[j], s[i][j]);
        }

        // Online softmax per row: the 8 lanes of a row group reduce the max by shuffles.
#pragma unroll
        for (int i = 0; i < TM; ++i) {
            const int row = q0 + rg * TM + i;
            float tile_max = NEG_INF;
#pragma unroll
            for (int j = 0; j < KPT; ++j) {
                int key = k0 + cg + COL_GROUPS * j;
                bool visible = key < N && (!causal || key <= row);
                s[i][j] = visible ? s[i][j] * scale_log2 : NEG_INF;
                tile_max = fmaxf(tile_max, s[i][j]);
            }
#pragma unroll
            for (int lanes = 1; lanes < COL_GROUPS; lanes *= 2)
                tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, lanes));
            float m_new = fmaxf(m[i], tile_max);
            // A row with no visible key yet keeps m = −∞; subtracting 0 keeps 2^(−∞) = 0.
            float m_use = m_new == NEG_INF ? 0.0f : m_new;
            float alpha = exp2f(m[i] - m_use);
            m[i] = m_new;
            l[i] *= alpha;  // this lane's share of the row sum; the shares are added at the end
#pragma unroll
            for (int c = 0; c < DCH; ++c)
#pragma unroll
                for (int e = 0; e < 4; ++e) o[i][c][e] *= alpha;
#pragma unroll
            for (int j = 0; j < KPT; ++j) {
                float p = exp2f(s[i][j] - m_use);
                l[i] += p;
                Ps[(rg * TM + i) * PS_STRIDE + cg + COL_GROUPS * j] = p;
            }
        }
        __syncwarp();  // a warp reads back only the P rows its own lanes wrote

        // O += P·V: per key, TM P values and DCH 16-byte chunks of V, TM·DCH·4 FMAs.
#pragma unroll 2
        for (int j = 0; j < BC; ++j) {
            float p[TM];
#pragma unroll
            for (int i = 0; i < TM; ++i) p[i] = Ps[(rg * TM + i) * PS_STRIDE + j];
#pragma unroll
            for (int c = 0; c < DCH; ++c) {
                float4 v = *reinterpret_cast<const float4*>(Vs + j * DPAD + 32 * c + 4 * cg);
#pragma unroll
                for (int i = 0; i < TM; ++i) {
                    o[i][c][0] = fmaf(p[i], v.x, o[i][c][0]);
                    o[i][c][1] = fmaf(p[i], v.y, o[i][c][1]);
                    o[i][c][2] = fmaf(p[i], v.z, o[i][c][2]);
                    o[i][c][3] = fmaf(p[i], v.w, o[i][c][3]);
                }
            }
        }
        // K/V tiles (and P) may be overwritten only after every warp has used them.
        __syncthreads();
        TRACE_END(trace, trace_steps, step, t0)
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
        float sum = l[i];
#pragma unroll
        for (int lanes = 1; lanes < COL_GROUPS; lanes *= 2)
            sum += __shfl_xor_sync(0xffffffffu, sum, lanes);
        const int row = q0 + rg * TM + i;
        if (row < N) {
            float inv = 1.0f / sum;
            float* out = O + head + (size_t)row * HEAD_DIM;
#pragma unroll
            for (int c = 0; c < DCH; ++c)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    int x = 32 * c + 4 * cg + e;
                    if (x < HEAD_DIM) out[x] = o[i][c][e] * inv;
                }
        }
    }
}
