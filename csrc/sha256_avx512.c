/* AVX-512: 16 lanes in ZMM registers, vprord for rotates and vpternlogd for Ch, Maj and the
 * three-way XORs. Compiled with its own target attribute (no global -mavx512f), so the rest of
 * the extension still runs on any x86-64; dispatch calls it only when cpuid + xgetbv say the
 * CPU and the OS support AVX-512 F/VL/BW. */
#include <string.h>

#include "hashcore.h"

#if defined(__x86_64__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx2,avx"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx2,avx")
#endif
#include <immintrin.h>

typedef uint32_t V __attribute__((vector_size(64)));
#define LANES 16
#define FN(name) avx512_##name
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n)))) /* becomes vprord */
#define TERN(a, b, c, imm) \
    ((V)_mm512_ternarylogic_epi32((__m512i)(a), (__m512i)(b), (__m512i)(c), (imm)))
/* Plain vector operators: GCC turns each of these into one vpternlogd and, unlike the
 * intrinsic, folds them when the inputs are constants (the fixed parts of a scan). */
#define XOR3(a, b, c) ((a) ^ (b) ^ (c))
#define CH(e, f, g) TERN(e, f, g, 0xCA)
#define MAJ(a, b, c) TERN(a, b, c, 0xE8)
#define BSWAP(x) ((V)_mm512_shuffle_epi8((__m512i)(x), bswap_mask()))
#define LE_MASK(x, t) ((uint32_t)_mm512_cmple_epu32_mask((__m512i)(x), (__m512i)(t)))
#define GATHER(p, j) \
    ((V)_mm512_i32gather_epi32(gather_index(), (const void *)((p) + 4 * (j)), 4))

static inline __attribute__((always_inline)) __m512i bswap_mask(void)
{
    return _mm512_broadcast_i32x4(
        _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL));
}

static inline __attribute__((always_inline)) __m512i gather_index(void)
{
    return _mm512_set_epi32(300, 280, 260, 240, 220, 200, 180, 160, 140, 120, 100, 80, 60, 40,
                            20, 0); /* header l starts at word 20*l */
}

#include "sha256_lanes.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

static const hc_ops avx512_ops = {hc_scalar_sha256d, avx512_hash_headers, avx512_scan};
const hc_ops *hc_ops_avx512_get(void) { return &avx512_ops; }

#else
const hc_ops *hc_ops_avx512_get(void) { return NULL; }
#endif
