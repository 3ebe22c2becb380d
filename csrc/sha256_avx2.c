/* AVX2: 8 lanes in YMM registers (rotates as two shifts and an OR). Own target pragma, no
 * global -mavx2; dispatch calls it only when cpuid + xgetbv report AVX2 and YMM state. */
#include <string.h>

#include "hashcore.h"

#if defined(__x86_64__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,avx"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,avx")
#endif
#include <immintrin.h>

typedef uint32_t V __attribute__((vector_size(32)));
#define LANES 8
#define FN(name) avx2_##name
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define XOR3(a, b, c) ((a) ^ (b) ^ (c))
#define CH(e, f, g) ((((f) ^ (g)) & (e)) ^ (g))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
#define BSWAP(x) ((V)_mm256_shuffle_epi8((__m256i)(x), bswap_mask()))
#define LE_MASK(x, t) \
    ((uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps((__m256i)((x) <= (t)))))
#define GATHER(p, j) \
    ((V)_mm256_i32gather_epi32((const int *)((p) + 4 * (j)), gather_index(), 4))

static inline __attribute__((always_inline)) __m256i bswap_mask(void)
{
    return _mm256_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL,
                             0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
}

static inline __attribute__((always_inline)) __m256i gather_index(void)
{
    return _mm256_set_epi32(140, 120, 100, 80, 60, 40, 20, 0); /* header l at word 20*l */
}

#include "sha256_lanes.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

static const hc_ops avx2_ops = {hc_scalar_sha256d, avx2_hash_headers, avx2_scan};
const hc_ops *hc_ops_avx2_get(void) { return &avx2_ops; }

#else
const hc_ops *hc_ops_avx2_get(void) { return NULL; }
#endif
