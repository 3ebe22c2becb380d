/* Nonce scanning entry point: checks arguments, computes the midstate of the first 64 bytes
 * once, and hands the range to the current path. The path does the early exit on the top
 * 32-bit word of the final hash; hc_scan_candidate does the full 256-bit comparison. */
#include <string.h>

#include "hashcore.h"

int hc_scan(const uint8_t *header76, size_t header_len, const uint8_t *target_le,
            uint32_t start, uint64_t count, uint32_t *nonces, uint8_t *hashes,
            size_t capacity, uint64_t *n_found)
{
    const hc_ops *ops = hc_current_ops();
    if (!ops) return HC_ERR_INIT;
    if (!header76 || !target_le || !n_found) return HC_ERR_NULL;
    if (capacity && (!nonces || !hashes)) return HC_ERR_NULL;
    if (header_len != 76 && header_len != 80) return HC_ERR_LENGTH;
    if (count > ((uint64_t)1 << 32) - start) return HC_ERR_RANGE;
    *n_found = 0;
    if (count == 0) return HC_OK;
    uint32_t mid[8];
    uint8_t tail[12];
    memcpy(mid, hc_IV, sizeof mid);
    hc_scalar_transform(mid, header76);
    memcpy(tail, header76 + 64, 12);
    uint32_t target_top = (uint32_t)target_le[28] | ((uint32_t)target_le[29] << 8) |
                          ((uint32_t)target_le[30] << 16) | ((uint32_t)target_le[31] << 24);
    struct hc_hits hits = {mid, tail, target_le, nonces, hashes, capacity, 0};
    ops->scan(mid, tail, target_top, start, count, &hits);
    *n_found = hits.found;
    return HC_OK;
}
