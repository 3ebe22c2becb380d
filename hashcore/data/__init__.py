"""Data files shipped with hashcore (ASIC catalogue, default scenario, genesis headers)."""
