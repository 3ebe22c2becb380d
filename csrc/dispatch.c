/* Dispatch: detect the CPU, self-test every compiled path on misaligned data against known
 * vectors, pick the fastest path that passed (an order measured by tools/measure_core.py,
 * see docs/core.md), and let a caller force another one.
 *
 * Unlike Bitcoin Core this never aborts: a path that fails is skipped, and its reason is kept
 * for the Python side to show. HASHCORE_SELFTEST_FAIL=name[,name] forces a failure (a test
 * hook for the fallback). */
#include <stdlib.h>
#include <string.h>

#include "hashcore.h"

#define STR2(x) #x
#define STR(x) STR2(x)

static const char *const impl_names[HC_IMPL_COUNT] = {"scalar", "shani", "avx2", "avx512",
                                                      "arm"};
static const int impl_lanes[HC_IMPL_COUNT] = {1, 4, 8, 16, 2}; /* interleaved messages */

/* Fastest first, as measured on the development CPU (Xeon 4th gen, SHA-NI + AVX-512):
 * see docs/core.md for the figures and the command. */
static const int dispatch_order[HC_IMPL_COUNT] = {HC_IMPL_AVX512, HC_IMPL_SHANI, HC_IMPL_AVX2,
                                                  HC_IMPL_ARM, HC_IMPL_SCALAR};

static const hc_ops *ops_table[HC_IMPL_COUNT];
static int status[HC_IMPL_COUNT];
static char reason[HC_IMPL_COUNT][160];
static int auto_impl = HC_IMPL_SCALAR;
static int current = -1;
/* One message cannot fill 8 or 16 lanes, so the SIMD lane paths have no single-message code
 * of their own; for them sha256d() runs the fastest single-message code that passed its
 * self-test (SHA-NI where present, else the portable transform). */
static void (*single_sha256d)(const uint8_t *, size_t, uint8_t *) = hc_scalar_sha256d;

static void set_current(int impl)
{
    current = impl;
    single_sha256d = ops_table[impl]->sha256d;
    if (single_sha256d == hc_scalar_sha256d && impl != HC_IMPL_SCALAR &&
        status[HC_IMPL_SHANI] == HC_STATUS_OK)
        single_sha256d = ops_table[HC_IMPL_SHANI]->sha256d;
}
static int initialised = 0;
static uint32_t cpu_features = 0;

const char *hc_version(void) { return HC_PKG_VERSION "+abi" STR(HC_ABI); }
const char *hc_build_flags(void) { return HC_BUILD_FLAGS; }
const char *hc_sanitize(void) { return HC_SANITIZE; }

const char *hc_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

/* ---------------------------------------------------------------- known vectors */

static const uint8_t genesis_header[80] = {
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0xa3, 0xed, 0xfd, 0x7a, 0x7b,
    0x12, 0xb2, 0x7a, 0xc7, 0x2c, 0x3e, 0x67, 0x76, 0x8f, 0x61, 0x7f, 0xc8, 0x1b, 0xc3,
    0x88, 0x8a, 0x51, 0x32, 0x3a, 0x9f, 0xb8, 0xaa, 0x4b, 0x1e, 0x5e, 0x4a, 0x29, 0xab,
    0x5f, 0x49, 0xff, 0xff, 0x00, 0x1d, 0x1d, 0xac, 0x2b, 0x7c};
/* raw digest (display order reversed): 000000000019d6689c085ae165831e934ff763ae46a2a6c1... */
static const uint8_t genesis_hash[32] = {
    0x6f, 0xe2, 0x8c, 0x0a, 0xb6, 0xf1, 0xb3, 0x72, 0xc1, 0xa6, 0xa2, 0x46, 0xae, 0x63, 0xf7,
    0x4f, 0x93, 0x1e, 0x83, 0x65, 0xe1, 0x5a, 0x08, 0x9c, 0x68, 0xd6, 0x19, 0x00, 0x00, 0x00,
    0x00, 0x00};
static const uint32_t genesis_nonce = 2083236893u;
/* FIPS 180-4 examples: SHA-256("abc") and of the 448-bit two-block message */
static const uint8_t nist_abc[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
    0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
    0x15, 0xad};
static const char nist_448_msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const uint8_t nist_448[32] = {
    0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60,
    0x39, 0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb,
    0x06, 0xc1};

#define ST_HEADERS 37 /* 2*16+5 and 4*8+5: every lane count gets a partial tail */

static void make_headers(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + 80 * i, genesis_header, 80);
        buf[80 * i + (i * 7) % 80] ^= (uint8_t)(i + 1);
        buf[80 * i + 76 + i % 4] ^= (uint8_t)(3 * i + 1);
    }
}

static void setfail(int impl, const char *why)
{
    strncpy(reason[impl], "self-test failed: ", sizeof reason[impl] - 1);
    strncat(reason[impl], why, sizeof reason[impl] - strlen(reason[impl]) - 1);
    status[impl] = HC_STATUS_SELFTEST_FAILED;
}

/* Every operation of one path on misaligned buffers vs known vectors and the scalar path. */
static int selftest(int impl, const hc_ops *ops)
{
    static uint8_t storage[ST_HEADERS * 80 + 64];
    static uint8_t expect[ST_HEADERS * 32], got[ST_HEADERS * 32 + 64];
    uint8_t *buf = storage + 3, out[32], want[32];

    if (impl == HC_IMPL_SCALAR) {
        hc_scalar_sha256((const uint8_t *)"abc", 3, out);
        if (memcmp(out, nist_abc, 32)) { setfail(impl, "SHA-256(\"abc\")"); return 0; }
        memcpy(buf, nist_448_msg, 56);
        hc_scalar_sha256(buf, 56, out);
        if (memcmp(out, nist_448, 32)) { setfail(impl, "SHA-256 448-bit vector"); return 0; }
    }
    memcpy(buf + 1, genesis_header, 80);
    ops->sha256d(buf + 1, 80, out);
    if (memcmp(out, genesis_hash, 32)) { setfail(impl, "sha256d(genesis header)"); return 0; }
    static const size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 80, 119, 120, 200, 1000};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        for (size_t i = 0; i < lens[k]; i++) buf[i + 1] = (uint8_t)(i * 31 + k);
        hc_scalar_sha256d(buf + 1, lens[k], want);
        ops->sha256d(buf + 1, lens[k], out);
        if (memcmp(out, want, 32)) { setfail(impl, "sha256d of a misaligned message"); return 0; }
    }
    make_headers(buf, ST_HEADERS);
    hc_scalar_hash_headers(buf, ST_HEADERS, expect);
    for (size_t n = 1; n <= ST_HEADERS; n += 9) {
        memset(got, 0xa5, sizeof got);
        ops->hash_headers(buf, n, got + 1);
        if (memcmp(got + 1, expect, 32 * n) || got[1 + 32 * n] != 0xa5) {
            setfail(impl, "hash_headers on misaligned headers");
            return 0;
        }
    }
    /* scan: 50 nonces around the genesis nonce at its real target 0x1d00ffff */
    uint8_t target[32] = {0};
    target[26] = 0xff; target[27] = 0xff;
    uint32_t mid[8], nonces[64];
    memcpy(mid, hc_IV, 32);
    hc_scalar_transform(mid, genesis_header);
    uint8_t *tail = storage + 1; /* misaligned */
    memcpy(tail, genesis_header + 64, 12);
    struct hc_hits hits = {mid, tail, target, nonces, got, 64, 0};
    ops->scan(mid, tail, 0, genesis_nonce - 37, 50, &hits);
    if (hits.found != 1 || nonces[0] != genesis_nonce || memcmp(got, genesis_hash, 32)) {
        setfail(impl, "scan around the genesis nonce");
        return 0;
    }
    /* every nonce meets an all-ones target; the range ends at the last nonce 0xffffffff */
    memset(target, 0xff, 32);
    hits.found = 0;
    ops->scan(mid, tail, 0xffffffffu, 0xffffffffu - 20, 21, &hits);
    if (hits.found != 21) { setfail(impl, "scan with an all-ones target"); return 0; }
    for (uint32_t i = 0; i < 21; i++) {
        if (nonces[i] != 0xffffffffu - 20 + i) { setfail(impl, "scan hit order"); return 0; }
    }
    strcpy(reason[impl], "ok");
    status[impl] = HC_STATUS_OK;
    return 1;
}

static int forced_failure(const char *name)
{
    const char *env = getenv("HASHCORE_SELFTEST_FAIL");
    if (!env) return 0;
    size_t n = strlen(name);
    for (const char *p = env; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

int hc_init(void)
{
    if (initialised) return HC_OK;
    cpu_features = hc_detect_cpu();
    ops_table[HC_IMPL_SCALAR] = &hc_ops_scalar;
    ops_table[HC_IMPL_SHANI] = hc_ops_shani_get();
    ops_table[HC_IMPL_AVX2] = hc_ops_avx2_get();
    ops_table[HC_IMPL_AVX512] = hc_ops_avx512_get();
    ops_table[HC_IMPL_ARM] = hc_ops_arm_get();
    static const uint32_t needs[HC_IMPL_COUNT] = {0, HC_CPU_SHA | HC_CPU_SSE41, HC_CPU_AVX2,
                                                  HC_CPU_AVX512, HC_CPU_ARM_SHA2};
    static const char *const need_names[HC_IMPL_COUNT] = {
        "", "cpu lacks SHA extensions or SSE4.1", "cpu or OS lacks AVX2 (YMM state)",
        "cpu or OS lacks AVX-512 F/VL/BW (ZMM state)", "cpu lacks ARMv8 SHA2"};
    for (int i = 0; i < HC_IMPL_COUNT; i++) {
        if (!ops_table[i]) {
            status[i] = HC_STATUS_NOT_COMPILED;
            strcpy(reason[i], "not compiled for this architecture or compiler");
        } else if ((cpu_features & needs[i]) != needs[i]) {
            status[i] = HC_STATUS_NO_CPU;
            strcpy(reason[i], need_names[i]);
        } else if (forced_failure(impl_names[i])) {
            setfail(i, "forced by HASHCORE_SELFTEST_FAIL");
        } else if (i != HC_IMPL_SCALAR && status[HC_IMPL_SCALAR] != HC_STATUS_OK) {
            setfail(i, "the scalar reference failed first");
        } else {
            selftest(i, ops_table[i]);
        }
    }
    auto_impl = -1;
    for (int k = 0; k < HC_IMPL_COUNT; k++) {
        if (status[dispatch_order[k]] == HC_STATUS_OK) { auto_impl = dispatch_order[k]; break; }
    }
    if (auto_impl < 0) return HC_ERR_INIT; /* even scalar failed: the extension is unusable */
    set_current(auto_impl);
    initialised = 1;
    return HC_OK;
}

uint32_t hc_cpu_features(void) { return hc_detect_cpu(); }
int hc_impl_count(void) { return HC_IMPL_COUNT; }

const char *hc_impl_name(int impl)
{
    return (impl >= 0 && impl < HC_IMPL_COUNT) ? impl_names[impl] : "";
}

int hc_impl_lanes(int impl)
{
    return (impl >= 0 && impl < HC_IMPL_COUNT) ? impl_lanes[impl] : HC_ERR_IMPL;
}

int hc_impl_status(int impl)
{
    if (impl < 0 || impl >= HC_IMPL_COUNT) return HC_ERR_IMPL;
    return initialised ? status[impl] : HC_ERR_INIT;
}

const char *hc_impl_reason(int impl)
{
    if (impl < 0 || impl >= HC_IMPL_COUNT) return "unknown implementation";
    return initialised ? reason[impl] : "not initialised";
}

int hc_set_impl(int impl)
{
    if (!initialised) return HC_ERR_INIT;
    if (impl == HC_IMPL_AUTO) { set_current(auto_impl); return HC_OK; }
    if (impl < 0 || impl >= HC_IMPL_COUNT || status[impl] != HC_STATUS_OK) return HC_ERR_IMPL;
    set_current(impl);
    return HC_OK;
}

int hc_current_impl(void) { return initialised ? current : HC_ERR_INIT; }
int hc_auto_impl(void) { return initialised ? auto_impl : HC_ERR_INIT; }

int hc_sha256(const uint8_t *data, size_t len, uint8_t *out32)
{
    if (!out32 || (!data && len)) return HC_ERR_NULL;
    hc_scalar_sha256(data ? data : (const uint8_t *)"", len, out32);
    return HC_OK;
}

int hc_sha256d(const uint8_t *data, size_t len, uint8_t *out32)
{
    if (!initialised) return HC_ERR_INIT;
    if (!out32 || (!data && len)) return HC_ERR_NULL;
    single_sha256d(data ? data : (const uint8_t *)"", len, out32);
    return HC_OK;
}

int hc_hash_headers(const uint8_t *headers, size_t n_bytes, uint8_t *out, size_t out_len)
{
    if (!initialised) return HC_ERR_INIT;
    if (n_bytes % 80 || out_len != n_bytes / 80 * 32) return HC_ERR_LENGTH;
    if (n_bytes == 0) return HC_OK;
    if (!headers || !out) return HC_ERR_NULL;
    ops_table[current]->hash_headers(headers, n_bytes / 80, out);
    return HC_OK;
}

const hc_ops *hc_current_ops(void) { return initialised ? ops_table[current] : NULL; }
