"""Consensus parameters of the five Bitcoin networks, as far as headers can check them.

Every constant is taken from Bitcoin Core ``src/kernel/chainparams.cpp`` (the ``CMainParams``,
``CTestNetParams``, ``CTestNet4Params``, ``SigNetParams`` and ``CRegTestParams`` classes,
as of Core v28/v29, read 2026-11) unless its comment names another source (a BIP).

What headers alone cannot check, stated once: signet's block signature (BIP325) lives in the
coinbase transaction's witness commitment, which a header does not carry; hashcore checks a
signet header's proof of work, links, retargets, time and version like any other network and
says so in the verification report. Likewise the BIP34 height-in-coinbase itself is out of
reach; only the version floors that came with BIP34/66/65 are checked.

Custom parameter sets (tests, benchmarks) are ``dataclasses.replace(MAINNET, ...)``, or
``custom(...)`` below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from hashcore.compact import bits_from_target
from hashcore.errors import InputError
from hashcore.header import BlockHeader

# Core src/chain.h MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60 (validation.cpp "time-too-new").
MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60
# Core src/chain.h MEDIAN_TIME_SPAN = 11 (CBlockIndex::GetMedianTimePast).
MEDIAN_TIME_SPAN = 11
# BIP94 / Core src/consensus/consensus.h MAX_TIMEWARP = 600 (lowered from 7200 by
# bitcoin/bitcoin PR #30647, 2024; see issue #30786).
MAX_TIMEWARP = 600

# Core chainparams.cpp: the coinbase message and output of every genesis block share one
# merkle root, except testnet4 (BIP94) which has its own coinbase message.
_MERKLE_COMMON = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
_MERKLE_TESTNET4 = "7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e"

# Core chainparams.cpp SigNetParams: the default signet challenge (a 1-of-2 multisig),
# used when -signetchallenge is not given. Recorded for reference; not checkable from headers.
SIGNET_DEFAULT_CHALLENGE = bytes.fromhex(
    "512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964f"
    "e22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae")


def _genesis(time: int, nonce: int, bits: int, merkle_display_hex: str) -> bytes:
    """CreateGenesisBlock(nTime, nNonce, nBits, nVersion=1, ...) -> the 80 header bytes."""
    merkle = bytes.fromhex(merkle_display_hex)[::-1]
    return BlockHeader(1, bytes(32), merkle, time, bits, nonce).to_bytes()


@dataclass(frozen=True)
class NetworkParams:
    """What a header validator needs to know about a network. Immutable; replace() to vary."""

    name: str
    genesis_header: bytes  # 80 bytes
    genesis_hash: str  # display hex, checked against genesis_header in tests
    pow_limit: int
    pow_target_spacing_s: int = 600  # Core nPowTargetSpacing = 10 * 60
    pow_target_timespan_s: int = 14 * 24 * 60 * 60  # Core nPowTargetTimespan (two weeks)
    allow_min_difficulty: bool = False  # Core fPowAllowMinDifficultyBlocks
    no_retargeting: bool = False  # Core fPowNoRetargeting
    enforce_bip94: bool = False  # Core enforce_BIP94 (testnet4)
    bip34_height: int = 0  # version >= 2 from here (Core BIP34Height)
    bip66_height: int = 0  # version >= 3 from here (Core BIP66Height)
    bip65_height: int = 0  # version >= 4 from here (Core BIP65Height)
    checkpoints: dict[int, str] = field(default_factory=dict)  # height -> display hex
    magic: bytes = b""  # Core pchMessageStart, the blk*.dat record marker
    signet_challenge: bytes | None = None
    max_future_block_time_s: int = MAX_FUTURE_BLOCK_TIME

    @property
    def interval(self) -> int:
        """Blocks per retarget period (Core DifficultyAdjustmentInterval(), 2016)."""
        return self.pow_target_timespan_s // self.pow_target_spacing_s

    @property
    def pow_limit_bits(self) -> int:
        """GetCompact(powLimit): what min-difficulty blocks carry (0x1d00ffff on mainnet)."""
        return bits_from_target(self.pow_limit)

    def version_floor(self, height: int) -> int:
        """The lowest nVersion allowed at ``height`` (ContextualCheckBlockHeader bad-version)."""
        if height >= self.bip65_height:
            return 4
        if height >= self.bip66_height:
            return 3
        if height >= self.bip34_height:
            return 2
        return -(1 << 31)

    def replace(self, **changes) -> NetworkParams:
        return dataclasses.replace(self, **changes)


_POW_LIMIT_MAIN = 0x00000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF

MAINNET = NetworkParams(
    name="mainnet",
    genesis_header=_genesis(1231006505, 2083236893, 0x1D00FFFF, _MERKLE_COMMON),
    genesis_hash="000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    pow_limit=_POW_LIMIT_MAIN,
    bip34_height=227931,
    bip66_height=363725,
    bip65_height=388381,
    # Core chainparams.cpp CMainParams checkpointData (shipped from v0.9 until checkpoints were
    # dropped from Core; the last one added was 295000).
    checkpoints={
        11111: "0000000069e244f73d78e8fd29ba2fd2ed618bd6fa2ee92559f542fdb26e7c1d",
        33333: "000000002dd5588a74784eaa7ab0507a18ad16a236e7b1ce69f00d7ddfb5d0a6",
        74000: "0000000000573993a3c9e41ce34471c079dcf5f52a0e824a81e7f953b8661a20",
        105000: "00000000000291ce28027faea320c8d2b054b2e0fe44a773f3eefb151d6bdc97",
        134444: "00000000000005b12ffd4cd315cd34ffd4a594f430ac814c91184a0d42d2b0fe",
        168000: "000000000000099e61ea72015e79632f216fe6cb33d7899acb35b75c8303b763",
        193000: "000000000000059f452a5f7340de6682a977387c17010ff6e6c3bd83ca8b1317",
        210000: "000000000000048b95347e83192f69cf0366076336c639f9b7228e9ba171342e",
        216116: "00000000000001b4f4b433e81ee46494af945cf96014816a4e2370f11b23df4e",
        225430: "00000000000001c108384350f74090433e7fcf79a606b8e797f065b130575932",
        250000: "000000000000003887df1f29024b06fc2200b55f8af8f35453d7be294df2d214",
        279000: "0000000000000001ae8c72a0b0c301f67e3afca10e819efa9041e458e9bd7e40",
        295000: "00000000000000004d9b4ef50f0f9d686fd69db2e03af35a100370c64632a983",
    },
    magic=bytes.fromhex("f9beb4d9"),
)

TESTNET3 = NetworkParams(
    name="testnet3",
    genesis_header=_genesis(1296688602, 414098458, 0x1D00FFFF, _MERKLE_COMMON),
    genesis_hash="000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
    pow_limit=_POW_LIMIT_MAIN,
    allow_min_difficulty=True,
    bip34_height=21111,
    bip66_height=330776,
    bip65_height=581885,
    # Core chainparams.cpp CTestNetParams checkpointData.
    checkpoints={546: "000000002a936ca763904c3c35fce2f3556c559c0214345d31b1bcebf76acb70"},
    magic=bytes.fromhex("0b110907"),
)

TESTNET4 = NetworkParams(
    name="testnet4",
    genesis_header=_genesis(1714777860, 393743547, 0x1D00FFFF, _MERKLE_TESTNET4),
    genesis_hash="00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
    pow_limit=_POW_LIMIT_MAIN,
    allow_min_difficulty=True,
    enforce_bip94=True,  # BIP94: timewarp rule, retarget from the period's first block bits
    bip34_height=1,
    bip66_height=1,
    bip65_height=1,
    magic=bytes.fromhex("1c163f28"),
)

SIGNET = NetworkParams(
    name="signet",
    genesis_header=_genesis(1598918400, 52613770, 0x1E0377AE, _MERKLE_COMMON),
    genesis_hash="00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
    pow_limit=0x00000377AE000000000000000000000000000000000000000000000000000000,
    bip34_height=1,
    bip66_height=1,
    bip65_height=1,
    # The default signet's magic is the first 4 bytes of sha256d(challenge script), Core
    # SigNetParams; this is the value for the default challenge.
    magic=bytes.fromhex("0a03cf40"),
    signet_challenge=SIGNET_DEFAULT_CHALLENGE,
)

REGTEST = NetworkParams(
    name="regtest",
    genesis_header=_genesis(1296688602, 2, 0x207FFFFF, _MERKLE_COMMON),
    genesis_hash="0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
    pow_limit=0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF,
    allow_min_difficulty=True,
    no_retargeting=True,
    bip34_height=1,  # "Always active unless overridden"
    bip66_height=1,
    bip65_height=1,
    checkpoints={0: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
    magic=bytes.fromhex("fabfb5da"),
)

NETWORKS: dict[str, NetworkParams] = {
    p.name: p for p in (MAINNET, TESTNET3, TESTNET4, SIGNET, REGTEST)
}
ALIASES = {"main": "mainnet", "bitcoin": "mainnet", "test": "testnet3", "testnet": "testnet3"}


def get_params(network: str | NetworkParams) -> NetworkParams:
    """A network by name (or the params themselves, for custom sets)."""
    if isinstance(network, NetworkParams):
        return network
    if not isinstance(network, str):
        raise InputError(f"network must be a name or NetworkParams, got {type(network).__name__}")
    key = ALIASES.get(network.strip().lower(), network.strip().lower())
    if key not in NETWORKS:
        raise InputError(f"unknown network '{network}' (choose from {', '.join(NETWORKS)})")
    return NETWORKS[key]


def network_of_genesis(header80: bytes) -> NetworkParams | None:
    """The network whose genesis header these 80 bytes are, if any."""
    for params in NETWORKS.values():
        if bytes(header80) == params.genesis_header:
            return params
    return None


def network_of_magic(magic: bytes) -> NetworkParams | None:
    for params in NETWORKS.values():
        if params.magic == bytes(magic):
            return params
    return None


def custom(name: str = "custom", *, pow_limit: int, genesis_header: bytes,
           base: NetworkParams = MAINNET, **changes) -> NetworkParams:
    """A custom network (easy limits for tests and benchmarks) built on ``base``'s rules.

    Checkpoints are dropped and version floors start at 0 unless given.
    """
    header = BlockHeader.from_bytes(genesis_header)
    defaults = dict(bip34_height=0, bip66_height=0, bip65_height=0, checkpoints={},
                    magic=b"", signet_challenge=None)
    defaults.update(changes)
    return dataclasses.replace(base, name=name, pow_limit=pow_limit,
                               genesis_header=bytes(genesis_header),
                               genesis_hash=header.hash_hex, **defaults)


def calculate_next_work_required(params: NetworkParams, last_bits: int, last_time: int,
                                 first_time: int, first_bits: int | None = None) -> int:
    """Core pow.cpp CalculateNextWorkRequired: the bits of the block that opens a period.

    ``last_*`` is the last block of the closing period, ``first_*`` its first block (Core's
    off-by-one: the timespan covers 2015 intervals, first to last). The timespan is clamped to
    [timespan/4, timespan*4]. BIP94 (testnet4) scales the first block's target instead of the
    last one's. Arithmetic is exact; for every built-in network that retargets,
    pow_limit * 4 * timespan stays below 2**256, so this equals Core's 256-bit arithmetic
    (signet is the tightest: 0x377ae * 4838400 < 2**40; regtest never retargets). Custom
    easy networks (powLimit ~2**255) would wrap in Core's arith_uint256; here they do not.
    """
    from hashcore.compact import decode_bits

    if params.no_retargeting:
        return last_bits
    timespan = params.pow_target_timespan_s
    actual = last_time - first_time
    actual = min(max(actual, timespan // 4), timespan * 4)
    base_bits = first_bits if params.enforce_bip94 and first_bits is not None else last_bits
    target = decode_bits(base_bits).target
    new = target * actual // timespan
    if new > params.pow_limit:
        new = params.pow_limit
    return bits_from_target(new)


def permitted_difficulty_transition(params: NetworkParams, height: int, old_bits: int,
                                    new_bits: int) -> bool:
    """Core pow.cpp PermittedDifficultyTransition: could ``new_bits`` follow ``old_bits``?

    At a retarget height the new target must lie within the 4x clamps of the old (each bound
    rounded through the compact form, as Core does); elsewhere bits may not change. Networks
    with min-difficulty blocks allow anything (Core returns true for them).
    """
    from hashcore.compact import decode_bits

    if params.allow_min_difficulty:
        return True
    if height % params.interval == 0:
        timespan = params.pow_target_timespan_s
        old = decode_bits(old_bits).target
        new = decode_bits(new_bits).target
        largest = min(old * (timespan * 4) // timespan, params.pow_limit)
        largest = decode_bits(bits_from_target(largest)).target
        smallest = min(old * (timespan // 4) // timespan, params.pow_limit)
        smallest = decode_bits(bits_from_target(smallest)).target
        return smallest <= new <= largest
    return old_bits == new_bits
