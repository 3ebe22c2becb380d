/* Portable SHA-256: the reference every other path is tested against.
 * Plain C (FIPS 180-4 written out), no intrinsics, so it builds on any target. */
#include <string.h>

#include "hashcore.h"

const uint32_t hc_K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

const uint32_t hc_IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static inline uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
#define S0(x) (ror(x, 2) ^ ror(x, 13) ^ ror(x, 22))
#define S1(x) (ror(x, 6) ^ ror(x, 11) ^ ror(x, 25))
#define s0(x) (ror(x, 7) ^ ror(x, 18) ^ ((x) >> 3))
#define s1(x) (ror(x, 17) ^ ror(x, 19) ^ ((x) >> 10))
#define CH(e, f, g) (((e) & (f)) ^ (~(e) & (g)))
#define MAJ(a, b, c) (((a) & (b)) ^ ((a) & (c)) ^ ((b) & (c)))

static void transform_words(uint32_t state[8], const uint32_t in[16])
{
    uint32_t w[64];
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 16; i++) w[i] = in[i];
    for (int i = 16; i < 64; i++) w[i] = s1(w[i - 2]) + w[i - 7] + s0(w[i - 15]) + w[i - 16];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + S1(e) + CH(e, f, g) + hc_K256[i] + w[i];
        uint32_t t2 = S0(a) + MAJ(a, b, c);
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

void hc_scalar_transform(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++) w[i] = hc_be32(block + 4 * i);
    transform_words(state, w);
}

void hc_scalar_sha256(const uint8_t *data, size_t len, uint8_t *out32)
{
    uint32_t st[8];
    uint8_t last[128];
    size_t full = len / 64, rest = len % 64;
    memcpy(st, hc_IV, sizeof st);
    for (size_t i = 0; i < full; i++) hc_scalar_transform(st, data + 64 * i);
    memset(last, 0, sizeof last);
    if (rest) memcpy(last, data + 64 * full, rest);
    last[rest] = 0x80;
    size_t tail = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) last[tail - 1 - i] = (uint8_t)(bits >> (8 * i));
    hc_scalar_transform(st, last);
    if (tail == 128) hc_scalar_transform(st, last + 64);
    for (int i = 0; i < 8; i++) hc_put_be32(out32 + 4 * i, st[i]);
}

/* Second stage: SHA-256 of a 32-byte digest given as state words. */
static void second_hash(const uint32_t first[8], uint32_t out[8])
{
    uint32_t w[16] = {0};
    for (int i = 0; i < 8; i++) w[i] = first[i];
    w[8] = 0x80000000u;
    w[15] = 256;
    memcpy(out, hc_IV, 32);
    transform_words(out, w);
}

void hc_scalar_sha256d(const uint8_t *data, size_t len, uint8_t *out32)
{
    uint8_t mid[32];
    uint32_t first[8], st[8];
    hc_scalar_sha256(data, len, mid);
    for (int i = 0; i < 8; i++) first[i] = hc_be32(mid + 4 * i);
    second_hash(first, st);
    for (int i = 0; i < 8; i++) hc_put_be32(out32 + 4 * i, st[i]);
}

void hc_scalar_hash_headers(const uint8_t *headers, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) hc_scalar_sha256d(headers + 80 * i, 80, out + 32 * i);
}

/* Full double hash of header(mid, tail, nonce) as 8 state words. */
static void header_hash_words(const uint32_t mid[8], const uint8_t tail12[12], uint32_t nonce,
                              uint32_t out[8])
{
    uint32_t w[16] = {0}, st[8];
    w[0] = hc_be32(tail12);
    w[1] = hc_be32(tail12 + 4);
    w[2] = hc_be32(tail12 + 8);
    w[3] = hc_bswap32(nonce);
    w[4] = 0x80000000u;
    w[15] = 640;
    memcpy(st, mid, 32);
    transform_words(st, w);
    second_hash(st, out);
}

void hc_scan_candidate(struct hc_hits *hits, uint32_t nonce)
{
    uint32_t h[8];
    uint8_t digest[32];
    header_hash_words(hits->mid, hits->tail12, nonce, h);
    for (int i = 0; i < 8; i++) hc_put_be32(digest + 4 * i, h[i]);
    /* compare as little-endian 256-bit integers, most significant byte (31) first */
    for (int i = 31; i >= 0; i--) {
        if (digest[i] < hits->target_le[i]) break;
        if (digest[i] > hits->target_le[i]) return;
    }
    if (hits->found < hits->capacity) {
        hits->nonces[hits->found] = nonce;
        memcpy(hits->hashes + 32 * hits->found, digest, 32);
    }
    hits->found++;
}

void hc_scalar_scan(const uint32_t mid[8], const uint8_t tail12[12], uint32_t target_top,
                    uint32_t start, uint64_t count, struct hc_hits *hits)
{
    for (uint64_t i = 0; i < count; i++) {
        uint32_t nonce = (uint32_t)(start + i), h[8];
        header_hash_words(mid, tail12, nonce, h);
        if (hc_bswap32(h[7]) <= target_top) hc_scan_candidate(hits, nonce);
    }
}

static void scalar_headers(const uint8_t *headers, size_t n, uint8_t *out)
{
    hc_scalar_hash_headers(headers, n, out);
}

const hc_ops hc_ops_scalar = {hc_scalar_sha256d, scalar_headers, hc_scalar_scan};
