// Optional per-tile tracing shared by every kernel.
//
// Compiled in only when MICROGPT_TRACE is defined. Thread 0 of each block writes one record per
// tile step into a fixed slot of a preallocated buffer: slot = linear block id * steps + step.
// Fixed slots need no atomics, and the host zeroes the buffer first, so an unused slot (a causal
// block that skips tiles) is recognisable by end == 0.
//
// Timing: %globaltimer ticks too coarsely (often 1 µs or more) for a short tile step, so each
// step records clock64() cycles of its SM at start and end, and a block's step 0 also records
// one %globaltimer (ns) read together with its end cycles. The host (trace.py) places every
// step of the block in time from that anchor, converting cycles with the device's clock rate;
// cycles of different SMs are never compared.
#pragma once

struct TraceSlot {
    unsigned long long start;  // clock64() at the step's start, cycles of this block's SM
    unsigned long long end;    // clock64() at its end
    unsigned long long timer;  // %globaltimer (ns) read with `end`; step 0 only, else 0
    unsigned int sm;           // %smid
    unsigned int block_x;
    unsigned int block_y;
    unsigned int block_z;
    unsigned int step;         // tile index within the block's loop
    unsigned int pad;
};  // 48 bytes: trace.py's SLOT_DTYPE mirrors it field for field

__device__ __forceinline__ unsigned long long trace_globaltimer() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

__device__ __forceinline__ unsigned long long trace_cycles() {
    return (unsigned long long)clock64();
}

__device__ __forceinline__ unsigned int trace_smid() {
    unsigned int id;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
    return id;
}

#ifdef MICROGPT_TRACE
#define TRACE_START(t0) \
    unsigned long long t0 = 0; \
    if (threadIdx.x == 0 && threadIdx.y == 0) t0 = trace_cycles();
#define TRACE_END(trace_buffer, slots_per_block, step_index, t0) \
    if ((trace_buffer) != nullptr && threadIdx.x == 0 && threadIdx.y == 0) { \
        unsigned long long trace_end_cycles = trace_cycles(); \
        unsigned long long trace_timer = (step_index) == 0 ? trace_globaltimer() : 0ull; \
        unsigned int block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x; \
        TraceSlot* slot = (trace_buffer) + (unsigned long long)block * (slots_per_block) \
                          + (step_index); \
        slot->start = (t0); \
        slot->end = trace_end_cycles; \
        slot->timer = trace_timer; \
        slot->sm = trace_smid(); \
        slot->block_x = blockIdx.x; \
        slot->block_y = blockIdx.y; \
        slot->block_z = blockIdx.z; \
        slot->step = (step_index); \
        slot->pad = 0; \
    }
#else
#define TRACE_START(t0)
#define TRACE_END(trace_buffer, slots_per_block, step_index, t0)
#endif
