/* x86 SHA extensions, with NL independent messages interleaved so that the long latency of
 * sha256rnds2 is hidden by the other lanes.
 *
 * The target is "sha,sse4.1" ONLY: SHA-NI exists only in legacy SSE encoding, and a unit
 * that also uses AVX (VEX 256-bit moves around sha256rnds2) was measured 150x slower from
 * SSE/AVX transition penalties (docs/core.md, DESIGN.md pitfalls). */
#include <string.h>

#include "hashcore.h"

#if defined(__x86_64__) || defined(__i386__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("sha,sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("sha,sse4.1")
#endif
#include <immintrin.h>

#define NL 4 /* lanes interleaved for headers and scans */
#define INLINE static inline __attribute__((always_inline))

/* 4 K words per 128-bit group */
#define KV(i) _mm_loadu_si128((const __m128i *)(hc_K256 + 4 * (i)))

INLINE __m128i bswap_words(__m128i x)
{
    return _mm_shuffle_epi8(x, _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL));
}

/* (a,b,c,d),(e,f,g,h) as stored words -> the ABEF / CDGH layout sha256rnds2 uses */
INLINE void to_abef(__m128i dcba, __m128i hgfe, __m128i *abef, __m128i *cdgh)
{
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    *abef = _mm_alignr_epi8(cdab, efgh, 8);
    *cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
}

INLINE void from_abef(__m128i abef, __m128i cdgh, __m128i *dcba, __m128i *hgfe)
{
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    *dcba = _mm_blend_epi16(feba, dchg, 0xF0);
    *hgfe = _mm_alignr_epi8(dchg, feba, 8);
}

/* nl interleaved compressions of message words m[l][0..3] (4 words each, host order).
 * With early != 0 the last two rounds are skipped and only lane 0 of the returned ABEF
 * (F after 62 rounds = e after 61 rounds = the final h before the feed-forward) is valid. */
INLINE void compress(int nl, __m128i *abef, __m128i *cdgh, __m128i m[][4], int early)
{
    __m128i s0[NL], s1[NL], save0[NL], save1[NL], w[NL][4], t[NL];
#pragma GCC unroll 4
    for (int l = 0; l < nl; l++) {
        s0[l] = save0[l] = abef[l];
        s1[l] = save1[l] = cdgh[l];
        w[l][0] = m[l][0]; w[l][1] = m[l][1]; w[l][2] = m[l][2]; w[l][3] = m[l][3];
    }
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        __m128i k = KV(g);
        if (g >= 4) {
#pragma GCC unroll 4
            for (int l = 0; l < nl; l++) {
                /* W[g] = msg2(msg1(W[g-4], W[g-3]) + alignr(W[g-1], W[g-2], 4), W[g-1]) */
                __m128i x = _mm_sha256msg1_epu32(w[l][g & 3], w[l][(g + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[l][(g + 3) & 3], w[l][(g + 2) & 3], 4));
                w[l][g & 3] = _mm_sha256msg2_epu32(x, w[l][(g + 3) & 3]);
            }
        }
#pragma GCC unroll 4
        for (int l = 0; l < nl; l++) {
            t[l] = _mm_add_epi32(w[l][g & 3], k);
            s1[l] = _mm_sha256rnds2_epu32(s1[l], s0[l], t[l]);
        }
        if (early && g == 15) {
#pragma GCC unroll 4
            for (int l = 0; l < nl; l++) abef[l] = s1[l];
            return;
        }
#pragma GCC unroll 4
        for (int l = 0; l < nl; l++) {
            s0[l] = _mm_sha256rnds2_epu32(s0[l], s1[l], _mm_shuffle_epi32(t[l], 0x0E));
        }
    }
#pragma GCC unroll 4
    for (int l = 0; l < nl; l++) {
        abef[l] = _mm_add_epi32(s0[l], save0[l]);
        cdgh[l] = _mm_add_epi32(s1[l], save1[l]);
    }
}

/* the IV in ABEF/CDGH layout (computed where needed: no shared mutable state) */
#define LOAD_IV(abef, cdgh)                                                                   \
    to_abef(_mm_loadu_si128((const __m128i *)hc_IV),                                          \
            _mm_loadu_si128((const __m128i *)(hc_IV + 4)), &(abef), &(cdgh))

/* second stage for nl first-stage states; writes raw 32-byte digests */
INLINE void second_stage(int nl, __m128i *abef, __m128i *cdgh, uint8_t *out[])
{
    __m128i m[NL][4], iv_abef, iv_cdgh;
    LOAD_IV(iv_abef, iv_cdgh);
    const __m128i pad0 = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i pad1 = _mm_set_epi32(256, 0, 0, 0);
#pragma GCC unroll 4
    for (int l = 0; l < nl; l++) {
        from_abef(abef[l], cdgh[l], &m[l][0], &m[l][1]);
        m[l][2] = pad0;
        m[l][3] = pad1;
        abef[l] = iv_abef;
        cdgh[l] = iv_cdgh;
    }
    compress(nl, abef, cdgh, m, 0);
#pragma GCC unroll 4
    for (int l = 0; l < nl; l++) {
        __m128i lo, hi;
        from_abef(abef[l], cdgh[l], &lo, &hi);
        _mm_storeu_si128((__m128i *)out[l], bswap_words(lo));
        _mm_storeu_si128((__m128i *)(out[l] + 16), bswap_words(hi));
    }
}

static void shani_sha256d(const uint8_t *data, size_t len, uint8_t *out32)
{
    __m128i abef[1], cdgh[1], m[1][4];
    uint8_t last[128];
    size_t full = len / 64, rest = len % 64;
    LOAD_IV(abef[0], cdgh[0]);
    for (size_t i = 0; i <= full; i++) {
        const uint8_t *p = data + 64 * i;
        if (i == full) {
            memset(last, 0, sizeof last);
            if (rest) memcpy(last, p, rest);
            last[rest] = 0x80;
            size_t tail = rest < 56 ? 64 : 128;
            uint64_t bits = (uint64_t)len * 8;
            for (int j = 0; j < 8; j++) last[tail - 1 - j] = (uint8_t)(bits >> (8 * j));
            for (size_t b = 0; b < tail; b += 64) {
                for (int j = 0; j < 4; j++)
                    m[0][j] = bswap_words(_mm_loadu_si128((const __m128i *)(last + b + 16 * j)));
                compress(1, abef, cdgh, m, 0);
            }
            break;
        }
        for (int j = 0; j < 4; j++)
            m[0][j] = bswap_words(_mm_loadu_si128((const __m128i *)(p + 16 * j)));
        compress(1, abef, cdgh, m, 0);
    }
    uint8_t *outs[1] = {out32};
    second_stage(1, abef, cdgh, outs);
}

INLINE void headers_n(int nl, const uint8_t *in, uint8_t *out)
{
    __m128i abef[NL], cdgh[NL], m[NL][4], iv_abef, iv_cdgh;
    uint8_t *outs[NL];
    LOAD_IV(iv_abef, iv_cdgh);
#pragma GCC unroll 4
    for (int l = 0; l < nl; l++) {
        abef[l] = iv_abef;
        cdgh[l] = iv_cdgh;
        for (int j = 0; j < 4; j++)
            m[l][j] = bswap_words(_mm_loadu_si128((const __m128i *)(in + 80 * l + 16 * j)));
        outs[l] = out + 32 * l;
    }
    compress(nl, abef, cdgh, m, 0);
#pragma GCC unroll 4
    for (int l = 0; l < nl; l++) {
        m[l][0] = bswap_words(_mm_loadu_si128((const __m128i *)(in + 80 * l + 64)));
        m[l][1] = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
        m[l][2] = _mm_setzero_si128();
        m[l][3] = _mm_set_epi32(640, 0, 0, 0);
    }
    compress(nl, abef, cdgh, m, 0);
    second_stage(nl, abef, cdgh, outs);
}

static void shani_hash_headers(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0;
    for (; i + NL <= n; i += NL) headers_n(NL, in + 80 * i, out + 32 * i);
    for (; i < n; i++) headers_n(1, in + 80 * i, out + 32 * i);
}

static void shani_scan(const uint32_t mid[8], const uint8_t tail12[12], uint32_t target_top,
                       uint32_t start, uint64_t count, struct hc_hits *hits)
{
    __m128i mid_abef, mid_cdgh, abef[NL], cdgh[NL], m[NL][4], iv_abef, iv_cdgh;
    LOAD_IV(iv_abef, iv_cdgh);
    to_abef(_mm_loadu_si128((const __m128i *)mid), _mm_loadu_si128((const __m128i *)(mid + 4)),
            &mid_abef, &mid_cdgh);
    const uint32_t w0 = hc_be32(tail12), w1 = hc_be32(tail12 + 4), w2 = hc_be32(tail12 + 8);
    const __m128i pad1 = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i pad3 = _mm_set_epi32(640, 0, 0, 0);
    const __m128i pad2b = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i pad3b = _mm_set_epi32(256, 0, 0, 0);
    const uint32_t iv7 = hc_IV[7];
    uint64_t i = 0;
    for (; i < count; i += NL) {
        uint32_t nonce0 = (uint32_t)(start + i);
#pragma GCC unroll 4
        for (int l = 0; l < NL; l++) {
            abef[l] = mid_abef;
            cdgh[l] = mid_cdgh;
            m[l][0] = _mm_set_epi32((int)hc_bswap32(nonce0 + (uint32_t)l), (int)w2, (int)w1,
                                    (int)w0);
            m[l][1] = pad1;
            m[l][2] = _mm_setzero_si128();
            m[l][3] = pad3;
        }
        compress(NL, abef, cdgh, m, 0);
#pragma GCC unroll 4
        for (int l = 0; l < NL; l++) {
            from_abef(abef[l], cdgh[l], &m[l][0], &m[l][1]);
            m[l][2] = pad2b;
            m[l][3] = pad3b;
            abef[l] = iv_abef;
            cdgh[l] = iv_cdgh;
        }
        compress(NL, abef, cdgh, m, 1);
        for (int l = 0; l < NL; l++) {
            if (i + (uint64_t)l >= count) break;
            uint32_t h7 = (uint32_t)_mm_cvtsi128_si32(abef[l]) + iv7;
            if (hc_bswap32(h7) <= target_top) hc_scan_candidate(hits, nonce0 + (uint32_t)l);
        }
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

static const hc_ops shani_ops = {shani_sha256d, shani_hash_headers, shani_scan};
const hc_ops *hc_ops_shani_get(void) { return &shani_ops; }

#else
const hc_ops *hc_ops_shani_get(void) { return NULL; }
#endif
