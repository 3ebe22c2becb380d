/* hashcore C core: the one header cffi sees.
 *
 * The text between the CDEF-BEGIN and CDEF-END markers is handed to cffi's cdef() as is,
 * so it holds only plain C declarations (no preprocessor lines, no attributes).
 * Everything else in this file is for the C sources only.
 *
 * Every exported function checks its pointers and lengths and returns an error code
 * (HC_ERR_*, negative) instead of crashing; the Python side checks before calling too.
 */
#ifndef HASHCORE_H
#define HASHCORE_H

#include <stddef.h>
#include <stdint.h>

/* Bump HC_ABI whenever a declaration below changes (and HC_ABI in hashcore/backends/c.py). */
#define HC_ABI 1
#ifndef HC_PKG_VERSION
#define HC_PKG_VERSION "unknown"
#endif
#ifndef HC_BUILD_FLAGS
#define HC_BUILD_FLAGS "unknown"
#endif
#ifndef HC_SANITIZE
#define HC_SANITIZE ""
#endif

/* CDEF-BEGIN */
enum {
    HC_OK = 0,
    HC_ERR_NULL = -1,      /* a NULL pointer where data was required */
    HC_ERR_LENGTH = -2,    /* a length that is not what the function expects */
    HC_ERR_RANGE = -3,     /* a nonce range that wraps past 2**32 */
    HC_ERR_IMPL = -4,      /* an unknown implementation, or one that may not run here */
    HC_ERR_INIT = -5       /* hc_init has not succeeded */
};

enum {
    HC_IMPL_AUTO = -1,
    HC_IMPL_SCALAR = 0,
    HC_IMPL_SHANI = 1,
    HC_IMPL_AVX2 = 2,
    HC_IMPL_AVX512 = 3,
    HC_IMPL_ARM = 4,
    HC_IMPL_COUNT = 5
};

enum {
    HC_STATUS_OK = 0,
    HC_STATUS_NOT_COMPILED = 1,
    HC_STATUS_NO_CPU = 2,
    HC_STATUS_SELFTEST_FAILED = 3
};

/* CPU feature bits returned by hc_cpu_features(). */
enum {
    HC_CPU_SSE41 = 1,
    HC_CPU_SHA = 2,
    HC_CPU_AVX = 4,      /* CPU bit and OS saves YMM state */
    HC_CPU_AVX2 = 8,
    HC_CPU_AVX512 = 16,  /* F + VL + BW, and OS saves ZMM/opmask state */
    HC_CPU_ARM_SHA2 = 32,
    HC_CPU_OSXSAVE = 64
};

const char *hc_version(void);        /* "<package version>+abi<HC_ABI>" */
const char *hc_compiler(void);       /* compiler name and version */
const char *hc_build_flags(void);    /* compile flags the builder used */
const char *hc_sanitize(void);       /* "" or the -fsanitize list */

int hc_init(void);                   /* detect, self-test, dispatch; idempotent */
uint32_t hc_cpu_features(void);
int hc_impl_count(void);
const char *hc_impl_name(int impl);
int hc_impl_lanes(int impl);
int hc_impl_status(int impl);        /* HC_STATUS_* */
const char *hc_impl_reason(int impl);/* "ok" or why the path may not run */
int hc_set_impl(int impl);           /* HC_IMPL_AUTO restores the dispatcher's choice */
int hc_current_impl(void);
int hc_auto_impl(void);

/* One SHA-256 (for NIST vectors) and SHA-256d of any length, on the current path. */
int hc_sha256(const uint8_t *data, size_t len, uint8_t *out32);
int hc_sha256d(const uint8_t *data, size_t len, uint8_t *out32);

/* n_bytes must be a multiple of 80; out_len must be n_bytes / 80 * 32. */
int hc_hash_headers(const uint8_t *headers, size_t n_bytes, uint8_t *out, size_t out_len);

/* Scan nonces [start, start+count) of an 80-byte header whose first 76 bytes are header76.
 * target_le: 32 bytes, the target as a little-endian 256-bit integer. Every nonce whose
 * double hash (read little-endian) is <= target is counted in *n_found; the first
 * capacity of them are written, in ascending order, to nonces[] and hashes[32*i].
 * *n_found > capacity means the buffer overflowed (rescan with a bigger one). */
int hc_scan(const uint8_t *header76, size_t header_len, const uint8_t *target_le,
            uint32_t start, uint64_t count, uint32_t *nonces, uint8_t *hashes,
            size_t capacity, uint64_t *n_found);
/* CDEF-END */

/* ---- internal to the C sources ------------------------------------------------------ */

struct hc_hits {
    const uint32_t *mid;
    const uint8_t *tail12;
    const uint8_t *target_le;
    uint32_t *nonces;
    uint8_t *hashes;
    size_t capacity;
    uint64_t found;
};

/* A path's operations. Each may assume valid, checked arguments. */
typedef struct {
    void (*sha256d)(const uint8_t *data, size_t len, uint8_t *out32);
    void (*hash_headers)(const uint8_t *headers, size_t n, uint8_t *out);
    /* Scan with midstate mid (state after the first 64 bytes) and the 12 tail bytes
     * (header bytes 64..75). For every nonce whose top 32-bit word passes the early exit
     * (hash word 7, little-endian, <= target_top), call hc_scan_candidate. */
    void (*scan)(const uint32_t mid[8], const uint8_t tail12[12], uint32_t target_top,
                 uint32_t start, uint64_t count, struct hc_hits *hits);
} hc_ops;

extern const uint32_t hc_K256[64];
extern const uint32_t hc_IV[8];

/* scalar reference (sha256_scalar.c) */
void hc_scalar_transform(uint32_t state[8], const uint8_t block[64]);
void hc_scalar_sha256(const uint8_t *data, size_t len, uint8_t *out32);
void hc_scalar_sha256d(const uint8_t *data, size_t len, uint8_t *out32);
void hc_scalar_hash_headers(const uint8_t *headers, size_t n, uint8_t *out);
void hc_scalar_scan(const uint32_t mid[8], const uint8_t tail12[12], uint32_t target_top,
                    uint32_t start, uint64_t count, struct hc_hits *hits);
/* Full check of one candidate nonce (scalar): records it if hash <= target. */
void hc_scan_candidate(struct hc_hits *hits, uint32_t nonce);

/* per-path tables; ops NULL where not compiled */
extern const hc_ops hc_ops_scalar;
extern const hc_ops *hc_ops_shani_get(void);
extern const hc_ops *hc_ops_avx2_get(void);
extern const hc_ops *hc_ops_avx512_get(void);
extern const hc_ops *hc_ops_arm_get(void);

uint32_t hc_detect_cpu(void);
const hc_ops *hc_current_ops(void);

static inline uint32_t hc_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void hc_put_be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24); p[1] = (uint8_t)(x >> 16); p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
}

static inline uint32_t hc_bswap32(uint32_t x)
{
    return __builtin_bswap32(x);
}

#endif
