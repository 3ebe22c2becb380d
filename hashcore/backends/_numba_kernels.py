"""Numba kernels for SHA-256d: scalar helpers plus lane-wise batch and scan kernels.

Imported only by ``hashcore.backends.numba`` (never by the core), so the C path does not pay
numba's import time.

Lane layout. The batch and scan kernels work on ``LANES`` independent messages at once.
Every per-lane value lives in one flat uint32 scratch array, in rows of ``LANES`` words:
the message schedule ``W`` (64 rows) and the history of the working variables ``a`` and
``e`` (68 rows each: round ``t`` reads rows ``t..t+3`` and writes row ``t+4``, because
``b, c, d`` are earlier ``a``'s and ``f, g, h`` earlier ``e``'s). Each round is then one
loop over the lanes with loads and stores at constant distances inside a single array, which
LLVM turns into SIMD code without runtime alias checks. Region offsets are module constants
so that they fold into the addresses.

Numba types ``uint32 op int`` as a 64-bit integer; the kernels only right-shift values
freshly loaded from uint32 arrays (or explicitly truncated with ``np.uint32``), and every
stored value is truncated to 32 bits, so the 64-bit intermediates never leak.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Lanes per kernel iteration. Measured on the development CPU (scan, one thread, M nonces/s,
# native / AVX2-only / baseline x86-64 code): 8 lanes 3.0 / 3.0 / 1.9 (LLVM unrolls the short
# lane loop and then does not vectorize it), 16 lanes 14.1 / 14.4 / 12.1, 32 lanes
# 15.8 / 16.4 / 13.0; scratch for 32 lanes is 52 KB, about the size of L1.
LANES = 32

K = np.array([
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4,
    0xAB1C5ED5, 0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE,
    0x9BDC06A7, 0xC19BF174, 0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F,
    0x4A7484AA, 0x5CB0A9DC, 0x76F988DA, 0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7,
    0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967, 0x27B70A85, 0x2E1B2138, 0x4D2C6DFC,
    0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85, 0xA2BFE8A1, 0xA81A664B,
    0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070, 0x19A4C116,
    0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7,
    0xC67178F2,
], dtype=np.uint32)

IV = np.array([
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB,
    0x5BE0CD19,
], dtype=np.uint32)

# Scratch layout (offsets in uint32 words). Two independent sets so that the scan can keep
# the first hash's constant rows while it runs the second hash.
W1 = 0
A1 = W1 + 64 * LANES
E1 = A1 + 68 * LANES
W2 = E1 + 68 * LANES
A2 = W2 + 64 * LANES
E2 = A2 + 68 * LANES
S1 = E2 + 68 * LANES          # 8 rows: a per-lane chaining state (hash_headers)
SCRATCH_WORDS = S1 + 8 * LANES

M32 = 0xFFFFFFFF

# --------------------------------------------------------------------------- scalar helpers
# The sigma helpers take a uint32 and return a uint32; inlined, their shift counts fold into
# 32-bit rotate instructions.


@njit(inline="always")
def _rotr(x, n):
    return np.uint32((x >> n) | (x << (32 - n)))


@njit(inline="always")
def _sig0(x):
    return np.uint32(_rotr(x, 7) ^ _rotr(x, 18) ^ (x >> 3))


@njit(inline="always")
def _sig1(x):
    return np.uint32(_rotr(x, 17) ^ _rotr(x, 19) ^ (x >> 10))


@njit(inline="always")
def _ep0(x):
    return np.uint32(_rotr(x, 2) ^ _rotr(x, 13) ^ _rotr(x, 22))


@njit(inline="always")
def _ep1(x):
    return np.uint32(_rotr(x, 6) ^ _rotr(x, 11) ^ _rotr(x, 25))



@njit(cache=True, nogil=True)
def _bswap(x):
    x = np.uint32(x)
    return np.uint32(((x & 0xFF) << 24) | ((x & 0xFF00) << 8) | ((x >> 8) & 0xFF00) | (x >> 24))


@njit(cache=True, nogil=True)
def _compress(state, w):
    """One SHA-256 compression of the 16 words ``w[0:16]`` into ``state`` (in place).

    ``w`` must have room for 64 words; rows 16..63 are overwritten by the schedule.
    """
    for t in range(16, 64):
        w[t] = np.uint32((_sig1(w[t - 2]) + w[t - 7] + _sig0(w[t - 15]) + w[t - 16]) & M32)
    a = state[0]
    b = state[1]
    c = state[2]
    d = state[3]
    e = state[4]
    f = state[5]
    g = state[6]
    h = state[7]
    for t in range(64):
        ch = np.uint32(g ^ (e & (f ^ g)))
        t1 = np.uint32((h + _ep1(e) + ch + K[t] + w[t]) & M32)
        maj = np.uint32((a & b) | (c & (a | b)))
        t2 = np.uint32((_ep0(a) + maj) & M32)
        h = g
        g = f
        f = e
        e = np.uint32((d + t1) & M32)
        d = c
        c = b
        b = a
        a = np.uint32((t1 + t2) & M32)
    state[0] = np.uint32((state[0] + a) & M32)
    state[1] = np.uint32((state[1] + b) & M32)
    state[2] = np.uint32((state[2] + c) & M32)
    state[3] = np.uint32((state[3] + d) & M32)
    state[4] = np.uint32((state[4] + e) & M32)
    state[5] = np.uint32((state[5] + f) & M32)
    state[6] = np.uint32((state[6] + g) & M32)
    state[7] = np.uint32((state[7] + h) & M32)


@njit(cache=True, nogil=True)
def _words_be(data, off, w, nwords):
    """``nwords`` big-endian words of ``data[off:]`` into ``w[0:nwords]``."""
    for i in range(nwords):
        p = off + 4 * i
        w[i] = np.uint32((np.uint32(data[p]) << 24) | (np.uint32(data[p + 1]) << 16)
                         | (np.uint32(data[p + 2]) << 8) | np.uint32(data[p + 3]))


@njit(cache=True, nogil=True)
def _second_hash(state, out):
    """SHA-256 of the 32-byte digest held in ``state`` (8 words), raw bytes into ``out``."""
    w = np.zeros(64, dtype=np.uint32)
    for i in range(8):
        w[i] = state[i]
    w[8] = 0x80000000
    w[15] = 256
    final = IV.copy()
    _compress(final, w)
    for i in range(8):
        v = final[i]
        out[4 * i] = np.uint8(v >> 24)
        out[4 * i + 1] = np.uint8((v >> 16) & 0xFF)
        out[4 * i + 2] = np.uint8((v >> 8) & 0xFF)
        out[4 * i + 3] = np.uint8(v & 0xFF)


@njit(cache=True, nogil=True)
def sha256d_kernel(data, out):
    """Double SHA-256 of any-length uint8 data into ``out`` (32 uint8, raw digest)."""
    n = data.size
    nblocks = (n + 9 + 63) // 64
    padded = np.zeros(nblocks * 64, dtype=np.uint8)
    for i in range(n):
        padded[i] = data[i]
    padded[n] = 0x80
    bitlen = n * 8
    for i in range(8):
        padded[nblocks * 64 - 1 - i] = (bitlen >> (8 * i)) & 0xFF
    state = IV.copy()
    w = np.zeros(64, dtype=np.uint32)
    for blk in range(nblocks):
        _words_be(padded, 64 * blk, w, 16)
        _compress(state, w)
    _second_hash(state, out)


# --------------------------------------------------------------------------- lane helpers
# inline="always": numba inlines these into the kernels, so the region offsets become
# constants there and LLVM sees fixed distances between rows.


@njit(inline="always")
def _lane_schedule(buf, w, t0, t1):
    for t in range(t0, t1):
        r = w + t * LANES
        for lane in range(LANES):
            buf[r + lane] = np.uint32(
                (_sig1(buf[r - 2 * LANES + lane]) + buf[r - 7 * LANES + lane]
                 + _sig0(buf[r - 15 * LANES + lane]) + buf[r - 16 * LANES + lane]) & M32)


@njit(inline="always")
def _lane_rounds(buf, w, a, e, t0, t1):
    for t in range(t0, t1):
        k = K[t]
        ra = a + t * LANES
        re = e + t * LANES
        rw = w + t * LANES
        for lane in range(LANES):
            av = buf[ra + 3 * LANES + lane]
            bv = buf[ra + 2 * LANES + lane]
            cv = buf[ra + LANES + lane]
            dv = buf[ra + lane]
            ev = buf[re + 3 * LANES + lane]
            fv = buf[re + 2 * LANES + lane]
            gv = buf[re + LANES + lane]
            hv = buf[re + lane]
            ch = np.uint32(gv ^ (ev & (fv ^ gv)))
            t1 = np.uint32((hv + _ep1(ev) + ch + k + buf[rw + lane]) & M32)
            maj = np.uint32((av & bv) | (cv & (av | bv)))
            buf[re + 4 * LANES + lane] = np.uint32((dv + t1) & M32)
            buf[ra + 4 * LANES + lane] = np.uint32((t1 + _ep0(av) + maj) & M32)


@njit(inline="always")
def _lane_set_state(buf, a, e, j, lane, value):
    """Put word ``j`` (0..7 for a..h) of a lane's initial state into the history rows."""
    if j < 4:
        buf[a + (3 - j) * LANES + lane] = value
    else:
        buf[e + (7 - j) * LANES + lane] = value


@njit(inline="always")
def _lane_final(buf, a, e, j, lane):
    """Word ``j`` (0..7 for a..h) of a lane's working state after 64 rounds."""
    if j < 4:
        return buf[a + (67 - j) * LANES + lane]
    return buf[e + (71 - j) * LANES + lane]


# --------------------------------------------------------------------------- hash_headers


@njit(cache=True, nogil=True)
def _headers_block(buf, headers, out, first, count):
    """Double-hash headers ``first .. first+count-1`` (count <= LANES), lane-wise."""
    # Block 1: header bytes 0..63, from the IV.
    for lane in range(LANES):
        i = first + min(lane, count - 1)  # idle lanes repeat the last header; not stored
        for r in range(16):
            p = 80 * i + 4 * r
            buf[W1 + r * LANES + lane] = np.uint32(
                (np.uint32(headers[p]) << 24) | (np.uint32(headers[p + 1]) << 16)
                | (np.uint32(headers[p + 2]) << 8) | np.uint32(headers[p + 3]))
        for r in range(4):
            p = 80 * i + 64 + 4 * r
            buf[W2 + r * LANES + lane] = np.uint32(
                (np.uint32(headers[p]) << 24) | (np.uint32(headers[p + 1]) << 16)
                | (np.uint32(headers[p + 2]) << 8) | np.uint32(headers[p + 3]))
        for j in range(8):
            _lane_set_state(buf, A1, E1, j, lane, IV[j])
    _lane_schedule(buf, W1, 16, 64)
    _lane_rounds(buf, W1, A1, E1, 0, 64)
    # Block 2: header bytes 64..79 and the padding, from the chaining state.
    for lane in range(LANES):
        for j in range(8):
            v = np.uint32((IV[j] + _lane_final(buf, A1, E1, j, lane)) & M32)
            buf[S1 + j * LANES + lane] = v
            _lane_set_state(buf, A1, E1, j, lane, v)
        buf[W2 + 4 * LANES + lane] = 0x80000000
        for r in range(5, 15):
            buf[W2 + r * LANES + lane] = 0
        buf[W2 + 15 * LANES + lane] = 640
    _lane_schedule(buf, W2, 16, 64)
    _lane_rounds(buf, W2, A1, E1, 0, 64)
    # Second hash: the 32-byte digest and its padding, from the IV.
    for lane in range(LANES):
        for j in range(8):
            v = np.uint32((buf[S1 + j * LANES + lane] + _lane_final(buf, A1, E1, j, lane))
                          & M32)
            buf[W1 + j * LANES + lane] = v
            _lane_set_state(buf, A2, E2, j, lane, IV[j])
        buf[W1 + 8 * LANES + lane] = 0x80000000
        for r in range(9, 15):
            buf[W1 + r * LANES + lane] = 0
        buf[W1 + 15 * LANES + lane] = 256
    _lane_schedule(buf, W1, 16, 64)
    _lane_rounds(buf, W1, A2, E2, 0, 64)
    for lane in range(count):
        i = first + lane
        for j in range(8):
            v = np.uint32((IV[j] + _lane_final(buf, A2, E2, j, lane)) & M32)
            out[i, 4 * j] = np.uint8(v >> 24)
            out[i, 4 * j + 1] = np.uint8((v >> 16) & 0xFF)
            out[i, 4 * j + 2] = np.uint8((v >> 8) & 0xFF)
            out[i, 4 * j + 3] = np.uint8(v & 0xFF)


@njit(cache=True, nogil=True)
def hash_headers_kernel(headers, out, first, stop):
    """Double-hash headers ``first .. stop-1`` of ``headers`` (N*80 bytes) into ``out`` (N, 32).

    Runs without the GIL, so the caller can give disjoint ranges to several threads.
    """
    buf = np.zeros(SCRATCH_WORDS, dtype=np.uint32)
    for i in range(first, stop, LANES):
        _headers_block(buf, headers, out, i, min(LANES, stop - i))


# --------------------------------------------------------------------------- scan


@njit(cache=True, nogil=True)
def _scan_setup(header76, buf, consts):
    """Per-header work done once: midstate, rounds 0..2 of block 2, constant rows.

    ``consts`` receives the midstate (0..7) for the feed-forward.
    """
    state = IV.copy()
    w = np.zeros(64, dtype=np.uint32)
    _words_be(header76, 0, w, 16)
    _compress(state, w)
    for j in range(8):
        consts[j] = state[j]
    # Block 2 words 0..2 (merkle tail, time, bits) are fixed; word 3 is the nonce.
    tail = np.zeros(16, dtype=np.uint32)
    _words_be(header76, 64, tail, 3)
    tail[4] = 0x80000000
    tail[15] = 640
    for lane in range(LANES):
        for r in range(16):
            buf[W1 + r * LANES + lane] = tail[r]
        for j in range(8):
            _lane_set_state(buf, A1, E1, j, lane, state[j])
        # Second hash: words 8..15 are the padding of a 32-byte message; start from the IV.
        buf[W2 + 8 * LANES + lane] = 0x80000000
        for r in range(9, 15):
            buf[W2 + r * LANES + lane] = 0
        buf[W2 + 15 * LANES + lane] = 256
        for j in range(8):
            _lane_set_state(buf, A2, E2, j, lane, IV[j])
    # Rounds 0..2 of block 2 and schedule words 16, 17 do not depend on the nonce.
    _lane_rounds(buf, W1, A1, E1, 0, 3)
    _lane_schedule(buf, W1, 16, 18)


@njit(cache=True, nogil=True)
def _scan_lanes(buf, mid, nonce0, top_target):
    """Hash LANES consecutive nonces from ``nonce0``; returns a bit mask of candidate lanes.

    A lane is a candidate when the top 32 bits of its hash (as a little-endian 256-bit
    number) are <= ``top_target``; only 61 rounds of the last compression are needed for it.
    """
    for lane in range(LANES):
        buf[W1 + 3 * LANES + lane] = _bswap((nonce0 + lane) & M32)  # past 2**32: unused
    _lane_schedule(buf, W1, 18, 64)
    _lane_rounds(buf, W1, A1, E1, 3, 64)
    # Feed-forward into the second hash's message: a..d from the A rows, e..h from the E rows.
    # One loop with all eight rows: a body this size is vectorized, not unrolled to scalars.
    m0, m1, m2, m3, m4, m5, m6, m7 = mid[0], mid[1], mid[2], mid[3], mid[4], mid[5], mid[6], mid[7]
    for lane in range(LANES):
        buf[W2 + lane] = np.uint32((m0 + buf[A1 + 67 * LANES + lane]) & M32)
        buf[W2 + LANES + lane] = np.uint32((m1 + buf[A1 + 66 * LANES + lane]) & M32)
        buf[W2 + 2 * LANES + lane] = np.uint32((m2 + buf[A1 + 65 * LANES + lane]) & M32)
        buf[W2 + 3 * LANES + lane] = np.uint32((m3 + buf[A1 + 64 * LANES + lane]) & M32)
        buf[W2 + 4 * LANES + lane] = np.uint32((m4 + buf[E1 + 67 * LANES + lane]) & M32)
        buf[W2 + 5 * LANES + lane] = np.uint32((m5 + buf[E1 + 66 * LANES + lane]) & M32)
        buf[W2 + 6 * LANES + lane] = np.uint32((m6 + buf[E1 + 65 * LANES + lane]) & M32)
        buf[W2 + 7 * LANES + lane] = np.uint32((m7 + buf[E1 + 64 * LANES + lane]) & M32)
    _lane_schedule(buf, W2, 16, 61)
    _lane_rounds(buf, W2, A2, E2, 0, 61)
    # After round 60 the new e is the final h: hash word 7 = IV[7] + e(60).
    mask = 0
    for lane in range(LANES):
        h7 = np.uint32((IV[7] + buf[E2 + 64 * LANES + lane]) & M32)
        if _bswap(h7) <= top_target:
            mask |= 1 << lane
    return mask


@njit(cache=True, nogil=True)
def _check_candidate(header76, mid, nonce, target_le, digest):
    """Full double hash of one nonce (from the midstate) into ``digest``; True if it meets
    the target, compared as 256-bit little-endian numbers."""
    w = np.zeros(64, dtype=np.uint32)
    _words_be(header76, 64, w, 3)
    w[3] = _bswap(nonce)
    w[4] = 0x80000000
    w[15] = 640
    state = mid.copy()
    _compress(state, w)
    _second_hash(state, digest)
    for i in range(31, -1, -1):  # most significant byte of a little-endian number first
        if digest[i] != target_le[i]:
            return digest[i] < target_le[i]
    return True


@njit(cache=True, nogil=True)
def scan_kernel(header76, target_le, nonce_start, count, out_nonces, out_digests):
    """Scan nonces [nonce_start, nonce_start+count) until the outputs are full.

    Returns (hits, scanned): hits written to the outputs, and how many nonces were scanned
    (less than ``count`` only when a hit found no room; the caller resumes at that nonce,
    so with room for at least one hit every call makes progress).
    """
    buf = np.zeros(SCRATCH_WORDS, dtype=np.uint32)
    mid = np.empty(8, dtype=np.uint32)
    _scan_setup(header76, buf, mid)
    top = np.uint32((np.uint32(target_le[31]) << 24) | (np.uint32(target_le[30]) << 16)
                    | (np.uint32(target_le[29]) << 8) | np.uint32(target_le[28]))
    cap = out_nonces.size
    hits = 0
    done = 0
    digest = np.empty(32, dtype=np.uint8)
    while done < count:
        nonce0 = nonce_start + done
        span = min(LANES, count - done)
        mask = _scan_lanes(buf, mid, nonce0, top)
        if mask:
            for lane in range(span):
                if mask & (1 << lane):
                    nonce = nonce0 + lane
                    if _check_candidate(header76, mid, nonce, target_le, digest):
                        if hits == cap:  # full: the caller resumes at this nonce
                            return hits, done + lane
                        out_nonces[hits] = nonce
                        for i in range(32):
                            out_digests[hits, i] = digest[i]
                        hits += 1
        done += span
    return hits, done
