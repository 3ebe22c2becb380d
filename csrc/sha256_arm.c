/* ARMv8 SHA-256 crypto extension (sha256h/sha256h2/sha256su0/sha256su1), two independent
 * messages interleaved. Compiled only on aarch64, with its own target pragma; dispatch calls
 * it only when AT_HWCAP reports SHA2. */
#include <string.h>

#include "hashcore.h"

/* GCC takes the crypto target from the pragma below; older clang (14) only exposes the SHA2
 * intrinsics when the whole compile targets them (__ARM_FEATURE_SHA2, the default on Apple
 * arm64), so without it the path is left out rather than failing the build. */
#if defined(__aarch64__) && \
    (!defined(__clang__) || defined(__ARM_FEATURE_SHA2) || defined(__ARM_FEATURE_CRYPTO))
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("crypto"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8-a+crypto")
#endif
#include <arm_neon.h>

#define NL 2
#define INLINE static inline __attribute__((always_inline))

/* nl interleaved compressions: st[l][0] = abcd, st[l][1] = efgh; m[l][0..3] host-order words */
INLINE void compress(int nl, uint32x4_t st[][2], uint32x4_t m[][4])
{
    uint32x4_t abcd[NL], efgh[NL], w[NL][4];
    for (int l = 0; l < nl; l++) {
        abcd[l] = st[l][0];
        efgh[l] = st[l][1];
        for (int j = 0; j < 4; j++) w[l][j] = m[l][j];
    }
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        uint32x4_t k = vld1q_u32(hc_K256 + 4 * g);
        for (int l = 0; l < nl; l++) {
            if (g >= 4) {
                w[l][g & 3] = vsha256su1q_u32(vsha256su0q_u32(w[l][g & 3], w[l][(g + 1) & 3]),
                                              w[l][(g + 2) & 3], w[l][(g + 3) & 3]);
            }
            uint32x4_t wk = vaddq_u32(w[l][g & 3], k);
            uint32x4_t old = abcd[l];
            abcd[l] = vsha256hq_u32(abcd[l], efgh[l], wk);
            efgh[l] = vsha256h2q_u32(efgh[l], old, wk);
        }
    }
    for (int l = 0; l < nl; l++) {
        st[l][0] = vaddq_u32(st[l][0], abcd[l]);
        st[l][1] = vaddq_u32(st[l][1], efgh[l]);
    }
}

INLINE uint32x4_t load_be(const uint8_t *p)
{
    return vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p)));
}

INLINE void store_be(uint8_t *p, uint32x4_t x)
{
    vst1q_u8(p, vrev32q_u8(vreinterpretq_u8_u32(x)));
}

INLINE void second_stage(int nl, uint32x4_t st[][2])
{
    uint32x4_t m[NL][4];
    const uint32_t pad_a[4] = {0x80000000u, 0, 0, 0}, pad_b[4] = {0, 0, 0, 256};
    for (int l = 0; l < nl; l++) {
        m[l][0] = st[l][0];
        m[l][1] = st[l][1];
        m[l][2] = vld1q_u32(pad_a);
        m[l][3] = vld1q_u32(pad_b);
        st[l][0] = vld1q_u32(hc_IV);
        st[l][1] = vld1q_u32(hc_IV + 4);
    }
    compress(nl, st, m);
}

static void arm_sha256d(const uint8_t *data, size_t len, uint8_t *out32)
{
    uint32x4_t st[1][2], m[1][4];
    uint8_t last[128];
    size_t full = len / 64, rest = len % 64;
    st[0][0] = vld1q_u32(hc_IV);
    st[0][1] = vld1q_u32(hc_IV + 4);
    for (size_t i = 0; i < full; i++) {
        for (int j = 0; j < 4; j++) m[0][j] = load_be(data + 64 * i + 16 * j);
        compress(1, st, m);
    }
    memset(last, 0, sizeof last);
    if (rest) memcpy(last, data + 64 * full, rest);
    last[rest] = 0x80;
    size_t tail = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int j = 0; j < 8; j++) last[tail - 1 - j] = (uint8_t)(bits >> (8 * j));
    for (size_t b = 0; b < tail; b += 64) {
        for (int j = 0; j < 4; j++) m[0][j] = load_be(last + b + 16 * j);
        compress(1, st, m);
    }
    second_stage(1, st);
    store_be(out32, st[0][0]);
    store_be(out32 + 16, st[0][1]);
}

INLINE void headers_n(int nl, const uint8_t *in, uint8_t *out)
{
    uint32x4_t st[NL][2], m[NL][4];
    const uint32_t pad_b[4] = {0, 0, 0, 640};
    for (int l = 0; l < nl; l++) {
        st[l][0] = vld1q_u32(hc_IV);
        st[l][1] = vld1q_u32(hc_IV + 4);
        for (int j = 0; j < 4; j++) m[l][j] = load_be(in + 80 * l + 16 * j);
    }
    compress(nl, st, m);
    for (int l = 0; l < nl; l++) {
        m[l][0] = load_be(in + 80 * l + 64);
        m[l][1] = vsetq_lane_u32(0x80000000u, vdupq_n_u32(0), 0); /* words 4..7 */
        m[l][2] = vdupq_n_u32(0);
        m[l][3] = vld1q_u32(pad_b);
    }
    compress(nl, st, m);
    second_stage(nl, st);
    for (int l = 0; l < nl; l++) {
        store_be(out + 32 * l, st[l][0]);
        store_be(out + 32 * l + 16, st[l][1]);
    }
}

static void arm_hash_headers(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0;
    for (; i + NL <= n; i += NL) headers_n(NL, in + 80 * i, out + 32 * i);
    for (; i < n; i++) headers_n(1, in + 80 * i, out + 32 * i);
}

static void arm_scan(const uint32_t mid[8], const uint8_t tail12[12], uint32_t target_top,
                     uint32_t start, uint64_t count, struct hc_hits *hits)
{
    uint32x4_t st[NL][2], m[NL][4];
    const uint32x4_t mid_abcd = vld1q_u32(mid), mid_efgh = vld1q_u32(mid + 4);
    const uint32x4_t pad1 = vsetq_lane_u32(0x80000000u, vdupq_n_u32(0), 0);
    const uint32x4_t pad3 = vsetq_lane_u32(640u, vdupq_n_u32(0), 3);
    uint32_t w0 = hc_be32(tail12), w1 = hc_be32(tail12 + 4), w2 = hc_be32(tail12 + 8);
    for (uint64_t i = 0; i < count; i += NL) {
        uint32_t nonce0 = (uint32_t)(start + i);
        for (int l = 0; l < NL; l++) {
            uint32_t words[4] = {w0, w1, w2, hc_bswap32(nonce0 + (uint32_t)l)};
            st[l][0] = mid_abcd;
            st[l][1] = mid_efgh;
            m[l][0] = vld1q_u32(words);
            m[l][1] = pad1;
            m[l][2] = vdupq_n_u32(0);
            m[l][3] = pad3;
        }
        compress(NL, st, m);
        second_stage(NL, st);
        for (int l = 0; l < NL; l++) {
            if (i + (uint64_t)l >= count) break;
            uint32_t h7 = vgetq_lane_u32(st[l][1], 3);
            if (hc_bswap32(h7) <= target_top) hc_scan_candidate(hits, nonce0 + (uint32_t)l);
        }
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

static const hc_ops arm_ops = {arm_sha256d, arm_hash_headers, arm_scan};
const hc_ops *hc_ops_arm_get(void) { return &arm_ops; }

#else
const hc_ops *hc_ops_arm_get(void) { return NULL; }
#endif
