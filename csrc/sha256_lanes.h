/* Lane-parallel SHA-256d kernels, written once and included by each SIMD file
 * (sha256_avx2.c: 8 lanes, sha256_avx512.c: 16 lanes) under that file's target pragma.
 *
 * The including file defines:
 *   V            a GCC vector of LANES uint32_t
 *   LANES        lane count
 *   ROR(x, n)    rotate right every lane
 *   XOR3(a,b,c)  a ^ b ^ c;  CH(e,f,g); MAJ(a,b,c)
 *   BSWAP(x)     byte-swap every lane
 *   LE_MASK(x,t) bitmask of lanes where x <= t (unsigned)
 *   GATHER(p, j) word j (byte offset 4*j) of LANES headers 80 bytes apart starting at p
 *   FN(name)     the file's prefix for name
 * Values that are constant for a whole scan (broadcast scalars) are loop-invariant, so the
 * compiler hoists them; zero message words fold away. */

#define INLINE static inline __attribute__((always_inline))

#define BSIG0(x) XOR3(ROR(x, 2), ROR(x, 13), ROR(x, 22))
#define BSIG1(x) XOR3(ROR(x, 6), ROR(x, 11), ROR(x, 25))
#define SSIG0(x) XOR3(ROR(x, 7), ROR(x, 18), (x) >> 3)
#define SSIG1(x) XOR3(ROR(x, 17), ROR(x, 19), (x) >> 10)

/* one round with rotating names: new e lands in d, new a lands in h */
#define RND(a, b, c, d, e, f, g, h, kw)                                                      \
    do {                                                                                      \
        V t1_ = (h + (kw)) + CH(e, f, g) + BSIG1(e);                                          \
        d += t1_;                                                                             \
        h = t1_ + BSIG0(a) + MAJ(a, b, c);                                                    \
    } while (0)
/* a round whose new a is never used (the last rounds before an early exit) */
#define RND_E(a, b, c, d, e, f, g, h, kw)                                                    \
    do {                                                                                      \
        d += (h + (kw)) + CH(e, f, g) + BSIG1(e);                                             \
    } while (0)

#define RNDS8(i, WK)                                                                          \
    RND(a, b, c, d, e, f, g, h, WK((i) + 0));                                                 \
    RND(h, a, b, c, d, e, f, g, WK((i) + 1));                                                 \
    RND(g, h, a, b, c, d, e, f, WK((i) + 2));                                                 \
    RND(f, g, h, a, b, c, d, e, WK((i) + 3));                                                 \
    RND(e, f, g, h, a, b, c, d, WK((i) + 4));                                                 \
    RND(d, e, f, g, h, a, b, c, WK((i) + 5));                                                 \
    RND(c, d, e, f, g, h, a, b, WK((i) + 6));                                                 \
    RND(b, c, d, e, f, g, h, a, WK((i) + 7))

#define WK_W(i) (w[i] + hc_K256[i])

/* schedule word i computed where round i needs it, so schedule and round work interleave
 * (the schedule alone is mostly shifts, which only one AVX-512 port executes) */
#define WK_X(i) ((w[i] = SSIG1(w[(i) - 2]) + w[(i) - 7] + SSIG0(w[(i) - 15]) + w[(i) - 16]) + \
                 hc_K256[i])

/* 64 rounds on st with message words w[0..15] (w[16..63] filled in on the way), then the
 * feed-forward */
INLINE void FN(compress)(V st[8], V w[64])
{
    V a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    RNDS8(0, WK_W); RNDS8(8, WK_W); RNDS8(16, WK_X); RNDS8(24, WK_X);
    RNDS8(32, WK_X); RNDS8(40, WK_X); RNDS8(48, WK_X); RNDS8(56, WK_X);
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

/* The first `rounds` rounds of a compression whose message words m[] are fixed, in scalar:
 * what the scan can do once per header instead of once per nonce. */
static void FN(fixed_rounds)(uint32_t s[8], const uint32_t *m, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        uint32_t e = s[4], a = s[0];
        uint32_t s1 = ((e >> 6) | (e << 26)) ^ ((e >> 11) | (e << 21)) ^ ((e >> 25) | (e << 7));
        uint32_t s0 = ((a >> 2) | (a << 30)) ^ ((a >> 13) | (a << 19)) ^ ((a >> 22) | (a << 10));
        uint32_t ch = (e & s[5]) ^ (~e & s[6]);
        uint32_t maj = (a & s[1]) ^ (a & s[2]) ^ (s[1] & s[2]);
        uint32_t t1 = s[7] + s1 + ch + hc_K256[r] + m[r];
        uint32_t t2 = s0 + maj;
        s[7] = s[6]; s[6] = s[5]; s[5] = s[4]; s[4] = s[3] + t1;
        s[3] = s[2]; s[2] = s[1]; s[1] = s[0]; s[0] = t1 + t2;
    }
}

/* For the round whose only non-fixed input is its message word x: with state s before it,
 * new a = x + *a_base and new e = x + *e_base. */
static void FN(word_round)(const uint32_t s[8], int r, uint32_t *a_base, uint32_t *e_base)
{
    uint32_t e = s[4], a = s[0];
    uint32_t s1 = ((e >> 6) | (e << 26)) ^ ((e >> 11) | (e << 21)) ^ ((e >> 25) | (e << 7));
    uint32_t s0 = ((a >> 2) | (a << 30)) ^ ((a >> 13) | (a << 19)) ^ ((a >> 22) | (a << 10));
    uint32_t ch = (e & s[5]) ^ (~e & s[6]);
    uint32_t maj = (a & s[1]) ^ (a & s[2]) ^ (s[1] & s[2]);
    uint32_t t1 = s[7] + s1 + ch + hc_K256[r]; /* T1 without the word */
    *a_base = t1 + s0 + maj;
    *e_base = s[3] + t1;
}

/* rounds 1..7 after a round 0 that started from the IV, under the rotated names */
#define RNDS_1_7(WK)                                                                          \
    RND(h, a, b, c, d, e, f, g, WK(1));                                                       \
    RND(g, h, a, b, c, d, e, f, WK(2));                                                       \
    RND(f, g, h, a, b, c, d, e, WK(3));                                                       \
    RND(e, f, g, h, a, b, c, d, WK(4));                                                       \
    RND(d, e, f, g, h, a, b, c, WK(5));                                                       \
    RND(c, d, e, f, g, h, a, b, WK(6));                                                       \
    RND(b, c, d, e, f, g, h, a, WK(7))

/* compress from the IV: round 0 is its word w[0] plus two constants (iv_a, iv_e from
 * word_round(hc_IV, 0)), the rest as in compress; st receives the result */
INLINE void FN(compress_iv)(V st[8], V w[64], uint32_t iv_a, uint32_t iv_e)
{
    V h = w[0] + iv_a, d = w[0] + iv_e;
    V a = (V){0} + hc_IV[0], b = (V){0} + hc_IV[1], c = (V){0} + hc_IV[2];
    V e = (V){0} + hc_IV[4], f = (V){0} + hc_IV[5], g = (V){0} + hc_IV[6];
    RNDS_1_7(WK_W);
    RNDS8(8, WK_W); RNDS8(16, WK_X); RNDS8(24, WK_X);
    RNDS8(32, WK_X); RNDS8(40, WK_X); RNDS8(48, WK_X); RNDS8(56, WK_X);
    st[0] = a + hc_IV[0]; st[1] = b + hc_IV[1]; st[2] = c + hc_IV[2]; st[3] = d + hc_IV[3];
    st[4] = e + hc_IV[4]; st[5] = f + hc_IV[5]; st[6] = g + hc_IV[6]; st[7] = h + hc_IV[7];
}

/* SHA-256 of the 32-byte digests in st (as words): the second stage of sha256d */
INLINE void FN(second)(V st[8], uint32_t iv_a, uint32_t iv_e)
{
    V w[64];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) w[i] = st[i];
    w[8] = (V){0} + 0x80000000u;
#pragma GCC unroll 8
    for (int i = 9; i < 15; i++) w[i] = (V){0};
    w[15] = (V){0} + 256u;
    FN(compress_iv)(st, w, iv_a, iv_e);
}

/* LANES full 80-byte headers from p (80 bytes apart) -> raw digests at out (32 apart) */
static void FN(headers_block)(const uint8_t *p, uint8_t *out, size_t valid, uint32_t iv_a,
                              uint32_t iv_e)
{
    V w[64], st[8];
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) w[j] = BSWAP(GATHER(p, j));
    FN(compress_iv)(st, w, iv_a, iv_e);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) w[j] = BSWAP(GATHER(p, 16 + j));
    w[4] = (V){0} + 0x80000000u;
#pragma GCC unroll 10
    for (int j = 5; j < 15; j++) w[j] = (V){0};
    w[15] = (V){0} + 640u;
    FN(compress)(st, w);
    FN(second)(st, iv_a, iv_e);
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) st[i] = BSWAP(st[i]);
    uint32_t words[8][LANES] __attribute__((aligned(64)));
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) *(V *)words[i] = st[i];
    for (size_t l = 0; l < valid; l++)
        for (int i = 0; i < 8; i++) memcpy(out + 32 * l + 4 * i, &words[i][l], 4);
}

static void FN(hash_headers)(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0;
    uint32_t iv_a, iv_e;
    FN(word_round)(hc_IV, 0, &iv_a, &iv_e);
    for (; i + LANES <= n; i += LANES)
        FN(headers_block)(in + 80 * i, out + 32 * i, LANES, iv_a, iv_e);
    if (i < n) {
        uint8_t tmp[80 * LANES];
        memset(tmp, 0, sizeof tmp);
        memcpy(tmp, in + 80 * i, 80 * (n - i));
        FN(headers_block)(tmp, out + 32 * i, n - i, iv_a, iv_e);
    }
}

#define WK_2(i) (w2[i] + hc_K256[i])
#define WK_2X(i) ((w2[i] = SSIG1(w2[(i) - 2]) + w2[(i) - 7] + SSIG0(w2[(i) - 15]) +           \
                   w2[(i) - 16]) + hc_K256[i])

static void FN(scan)(const uint32_t mid[8], const uint8_t tail12[12], uint32_t target_top,
                     uint32_t start, uint64_t count, struct hc_hits *hits)
{
    /* second block: rounds 0..2 use only header words (done once, here); round 3 adds the
     * nonce word W3 to two constants */
    uint32_t s[8], m[3], a_base, e_base;
    m[0] = hc_be32(tail12); m[1] = hc_be32(tail12 + 4); m[2] = hc_be32(tail12 + 8);
    memcpy(s, mid, sizeof s);
    FN(fixed_rounds)(s, m, 3);
    FN(word_round)(s, 3, &a_base, &e_base);
    /* second hash: round 0 starts from the IV, so it too is its word W0 plus constants */
    uint32_t h2_a, h2_e;
    FN(word_round)(hc_IV, 0, &h2_a, &h2_e);
    const uint32_t iv7 = hc_IV[7];
    V lane_index;
    for (int l = 0; l < LANES; l++) lane_index[l] = (uint32_t)l;
    const V vtop = (V){0} + target_top;

    for (uint64_t i = 0; i < count; i += LANES) {
        uint32_t nonce0 = (uint32_t)(start + i);
        V w[64];
        w[0] = (V){0} + m[0]; w[1] = (V){0} + m[1]; w[2] = (V){0} + m[2];
        w[3] = BSWAP(((V){0} + nonce0) + lane_index);
        w[4] = (V){0} + 0x80000000u;
#pragma GCC unroll 10
        for (int j = 5; j < 15; j++) w[j] = (V){0};
        w[15] = (V){0} + 640u;
        /* the state after round 3, under the names that round 4 uses (rotated by 4) */
        V e = ((V){0} + a_base) + w[3], a = ((V){0} + e_base) + w[3];
        V f = (V){0} + s[0], g = (V){0} + s[1], h = (V){0} + s[2];
        V b = (V){0} + s[4], c = (V){0} + s[5], d = (V){0} + s[6];
        RND(e, f, g, h, a, b, c, d, WK_W(4));
        RND(d, e, f, g, h, a, b, c, WK_W(5));
        RND(c, d, e, f, g, h, a, b, WK_W(6));
        RND(b, c, d, e, f, g, h, a, WK_W(7));
        RNDS8(8, WK_W); RNDS8(16, WK_X); RNDS8(24, WK_X);
        RNDS8(32, WK_X); RNDS8(40, WK_X); RNDS8(48, WK_X); RNDS8(56, WK_X);

        V w2[64];
        w2[0] = a + mid[0]; w2[1] = b + mid[1]; w2[2] = c + mid[2]; w2[3] = d + mid[3];
        w2[4] = e + mid[4]; w2[5] = f + mid[5]; w2[6] = g + mid[6]; w2[7] = h + mid[7];
        w2[8] = (V){0} + 0x80000000u;
#pragma GCC unroll 8
        for (int j = 9; j < 15; j++) w2[j] = (V){0};
        w2[15] = (V){0} + 256u;
        /* the state after round 0, under the names round 1 uses (rotated by 1) */
        h = w2[0] + h2_a; d = w2[0] + h2_e;
        a = (V){0} + hc_IV[0]; b = (V){0} + hc_IV[1]; c = (V){0} + hc_IV[2];
        e = (V){0} + hc_IV[4]; f = (V){0} + hc_IV[5]; g = (V){0} + hc_IV[6];
        RNDS_1_7(WK_2);
        RNDS8(8, WK_2); RNDS8(16, WK_2X); RNDS8(24, WK_2X);
        RNDS8(32, WK_2X); RNDS8(40, WK_2X); RNDS8(48, WK_2X);
        RND(a, b, c, d, e, f, g, h, WK_2X(56));
        /* rounds 57..60 only feed e, which becomes the final h: their new a is unused */
        RND_E(h, a, b, c, d, e, f, g, WK_2X(57));
        RND_E(g, h, a, b, c, d, e, f, WK_2X(58));
        RND_E(f, g, h, a, b, c, d, e, WK_2X(59));
        RND_E(e, f, g, h, a, b, c, d, WK_2X(60));
        /* e after round 60 (landed in h, round 60's d role) is the final h before the
         * feed-forward: final word 7 = that + IV[7] */
        V top = BSWAP(h + iv7);
        uint32_t mask = LE_MASK(top, vtop);
        if (__builtin_expect(mask != 0, 0)) {
            uint64_t left = count - i;
            if (left < LANES) mask &= (1u << left) - 1u;
            while (mask) {
                int l = __builtin_ctz(mask);
                mask &= mask - 1;
                hc_scan_candidate(hits, nonce0 + (uint32_t)l);
            }
        }
    }
}
