/* CPU feature detection: cpuid + xgetbv on x86 (the CPU bit AND the OS saving the
 * register state), getauxval(AT_HWCAP) on aarch64 Linux, always on Apple arm64. */
#include "hashcore.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0)); /* xgetbv */
    return ((uint64_t)hi << 32) | lo;
}

uint32_t hc_detect_cpu(void)
{
    uint32_t a, b, c, d, max_leaf, feat = 0;
    if (!__get_cpuid(0, &max_leaf, &b, &c, &d)) return 0;
    __cpuid(1, a, b, c, d);
    int has_sse41 = (c >> 19) & 1;
    int has_osxsave = (c >> 27) & 1;
    int has_avx = (c >> 28) & 1;
    if (has_sse41) feat |= HC_CPU_SSE41;
    int ymm_ok = 0, zmm_ok = 0;
    if (has_osxsave) {
        feat |= HC_CPU_OSXSAVE;
        uint64_t xcr0 = read_xcr0();
        ymm_ok = (xcr0 & 0x6) == 0x6;            /* XMM (bit 1) and YMM (bit 2) state */
        zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM (5-7) */
    }
    if (has_avx && ymm_ok) feat |= HC_CPU_AVX;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if ((b >> 29) & 1) feat |= HC_CPU_SHA;
        if (((b >> 5) & 1) && (feat & HC_CPU_AVX)) feat |= HC_CPU_AVX2;
        int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
        if (f && bw && vl && zmm_ok && (feat & HC_CPU_AVX2)) feat |= HC_CPU_AVX512;
    }
    return feat;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1 << 6)
#endif

uint32_t hc_detect_cpu(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_SHA2) ? HC_CPU_ARM_SHA2 : 0;
}

#elif defined(__aarch64__) && defined(__APPLE__)
/* every Apple arm64 CPU implements the ARMv8 SHA2 instructions */
uint32_t hc_detect_cpu(void) { return HC_CPU_ARM_SHA2; }

#else
uint32_t hc_detect_cpu(void) { return 0; }
#endif
