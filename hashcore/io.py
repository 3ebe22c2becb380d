"""Reading and writing block headers: raw, hex, Bitcoin Core blk*.dat, bitcoin-cli JSON, Electrum.

Every reader returns a ``HeaderInput``: the headers as one N*80 buffer, the format, and what
the source says about heights and network. Big raw/Electrum files can be streamed instead
(``iter_raw_chunks``) so that verification runs in bounded memory. Every problem is a
``ReadError(source, where, what)`` naming the file, the byte offset or line, and what is wrong.

Formats:

- ``raw``: concatenated 80-byte headers (what is hashed).
- ``hex``: 160 hex digits per header, one per line or separated by any whitespace (what
  ``bitcoin-cli getblockheader <hash> false`` prints); ``#`` starts a comment line.
- ``blk``: Bitcoin Core's block files: records of 4-byte network magic, 4-byte little-endian
  length, then the block (80-byte header first; the transactions are skipped by the length).
  Core 28+ XORs the files with the 8-byte key in ``blocks/xor.dat``, by file offset; it is
  applied when found beside the file. A folder is read as a node's ``blocks/`` dir: every
  ``blk*.dat`` in file-number order. Blocks in these files are not in height order.
- ``json``: ``bitcoin-cli getblockheader <hash> true`` output (one object or a list): the 80
  bytes are rebuilt from the fields and the stated ``hash`` is checked; or ``... false``
  output as a JSON string or list of strings.
- ``electrum``: Electrum's ``blockchain_headers``: raw headers from height 0; trailing all-zero
  slots (space Electrum reserved but has not filled) are dropped.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hashcore.errors import ReadError
from hashcore.header import HEADER_SIZE, BlockHeader, header_bytes
from hashcore.params import NETWORKS, NetworkParams, network_of_magic

FORMATS = ("auto", "raw", "hex", "blk", "json", "electrum")
_TEXT_RE = re.compile(rb"^[\x20-\x7e\t\r\n]*$")
_CONTROL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # bytes text never holds
_BLK_RE = re.compile(r"^blk(\d+)\.dat$")
_MAX_BLOCK_SIZE = 4_000_000 + 1_000  # MAX_BLOCK_SERIALIZED_SIZE (Core consensus.h), with slack
RAW_CHUNK_HEADERS = 1 << 16


@dataclass
class HeaderInput:
    """Headers read from one or more sources, in the order read."""

    data: bytes
    format: str
    sources: list[str] = field(default_factory=list)
    heights: list[int] | None = None  # stated heights (JSON), if any
    start_height: int | None = None  # a format that implies it (Electrum: 0)
    network: NetworkParams | None = None  # from blk magic
    in_order: bool = True  # False: must go through the tree (blk, JSON lists)

    @property
    def count(self) -> int:
        return len(self.data) // HEADER_SIZE


# ----------------------------------------------------------------------------- detection

def _blk_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if _BLK_RE.match(p.name)]
    return sorted(files, key=lambda p: int(_BLK_RE.match(p.name).group(1)))


def _xor_key(folder: Path, source: str) -> bytes | None:
    path = folder / "xor.dat"
    if not path.exists():
        return None
    key = path.read_bytes()
    if len(key) != 8:
        raise ReadError(str(path), "byte 0", f"xor.dat must hold an 8-byte key, has {len(key)}")
    return key if any(key) else None


def detect_format(path: str | os.PathLike) -> str:
    """Guess a file's format from its name and first bytes."""
    p = Path(path)
    if p.is_dir():
        return "blk"
    if _BLK_RE.match(p.name):
        return "blk"
    if p.name == "blockchain_headers":
        return "electrum"
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise ReadError(str(p), "byte 0", "the file is empty")
    magic = head[:4]
    key = _xor_key(p.parent, str(p))
    if key is not None:
        magic = bytes(a ^ b for a, b in zip(magic, key, strict=False))
    if network_of_magic(magic) is not None:
        return "blk"
    stripped = head.lstrip()
    # JSON is text; a raw header whose version byte happens to be '{', '[' or '"' is not
    # (its hashes hold control bytes), so only text that opens like JSON is taken as JSON.
    if stripped[:1] in (b"{", b"[", b'"') and not _CONTROL_RE.search(head):
        return "json"
    if _TEXT_RE.match(head):  # text: hex (raw headers always hold non-printable bytes)
        return "hex"
    return "raw"


# ----------------------------------------------------------------------------- readers

def _check_not_empty(source: str, size: int) -> None:
    if size == 0:
        raise ReadError(source, "byte 0", "the input is empty (no headers)")


def read_raw(path: str | os.PathLike, *, electrum: bool = False) -> HeaderInput:
    """Concatenated 80-byte headers."""
    source = str(path)
    data = Path(path).read_bytes()
    _check_not_empty(source, len(data))
    if len(data) % HEADER_SIZE:
        whole = len(data) - len(data) % HEADER_SIZE
        raise ReadError(source, f"byte {whole}",
                        f"truncated header: {len(data) % HEADER_SIZE} bytes left over "
                        f"(the file is {len(data)} bytes, not a multiple of 80)")
    if electrum:
        data = _strip_electrum_padding(data)
        _check_not_empty(source, len(data))
    return HeaderInput(data, "electrum" if electrum else "raw", [source],
                       start_height=0 if electrum else None)


def _strip_electrum_padding(data: bytes) -> bytes:
    rows = header_bytes(data)
    nonzero = np.flatnonzero(rows.any(axis=1))
    end = int(nonzero[-1]) + 1 if nonzero.size else 0
    return data[:end * HEADER_SIZE]


def iter_raw_chunks(path: str | os.PathLike,
                    chunk_headers: int = RAW_CHUNK_HEADERS) -> Iterator[bytes]:
    """Stream a raw header file in chunks (bounded memory); errors as ``read_raw``."""
    source = str(path)
    size = os.path.getsize(path)
    _check_not_empty(source, size)
    if size % HEADER_SIZE:
        raise ReadError(source, f"byte {size - size % HEADER_SIZE}",
                        f"truncated header: {size % HEADER_SIZE} bytes left over "
                        f"(the file is {size} bytes, not a multiple of 80)")
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk_headers * HEADER_SIZE)
            if not block:
                return
            yield block


def parse_hex(text: str | bytes, source: str = "<hex>") -> bytes:
    """Hex headers, whitespace separated (lines may hold several); errors name the line."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ReadError(source, f"byte {exc.start}", "not ASCII text, so not hex") from None
    out = bytearray()
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for token in line.split():
            if len(token) % 2:
                raise ReadError(source, f"line {lineno}",
                                f"odd-length hex ({len(token)} digits): {token[:20]}...")
            try:
                raw = bytes.fromhex(token)
            except ValueError:
                bad = next((k for k, c in enumerate(token) if c not in "0123456789abcdefABCDEF"),
                           0)
                raise ReadError(source, f"line {lineno}",
                                f"not hex: {token[bad]!r} at column {line.find(token) + bad + 1}"
                                ) from None
            if len(raw) % HEADER_SIZE:
                raise ReadError(source, f"line {lineno}",
                                f"{len(raw)} bytes of hex is not a whole number of 80-byte "
                                "headers")
            out += raw
    _check_not_empty(source, len(out))
    return bytes(out)


def read_hex(path: str | os.PathLike) -> HeaderInput:
    source = str(path)
    return HeaderInput(parse_hex(Path(path).read_bytes(), source), "hex", [source])


def header_from_rpc(obj: dict, source: str = "<json>", where: str = "") -> tuple[bytes, int]:
    """The 80 bytes of one ``getblockheader <hash> true`` object, its stated hash checked."""
    where = where or "object"
    try:
        prev = obj.get("previousblockhash", "00" * 32)
        bits = obj["bits"]
        header = BlockHeader(
            version=int(obj["version"]),
            prev_hash=bytes.fromhex(prev)[::-1],
            merkle_root=bytes.fromhex(obj["merkleroot"])[::-1],
            time=int(obj["time"]),
            bits=int(bits, 16) if isinstance(bits, str) else int(bits),
            nonce=int(obj["nonce"]),
        )
    except KeyError as exc:
        raise ReadError(source, where, f"missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ReadError(source, where, f"bad field value: {exc}") from None
    stated = obj.get("hash")
    if stated is not None and header.hash_hex != str(stated).lower():
        raise ReadError(source, where, f"the fields hash to {header.hash_hex}, but the object "
                        f"states hash {stated}")
    height = obj.get("height")
    if height is None:
        return header.to_bytes(), -1
    if not isinstance(height, int) or isinstance(height, bool) or height < 0:
        raise ReadError(source, where, f"field 'height' must be a non-negative integer, "
                        f"got {height!r}")
    return header.to_bytes(), height


def parse_json(text: str | bytes, source: str = "<json>") -> HeaderInput:
    """bitcoin-cli getblockheader output, verbose (objects) or not (hex strings)."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReadError(source, f"byte {exc.start}", "not UTF-8 text, so not JSON") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(source, f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise ReadError(source, "byte 0", "JSON nested too deeply to be a header list") from None
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise ReadError(source, "byte 0", "the JSON list is empty (no headers)")
    out = bytearray()
    heights: list[int] = []
    for k, item in enumerate(items):
        where = f"item {k}" if isinstance(doc, list) else "object"
        if isinstance(item, str):
            out += parse_hex(item, f"{source} {where}")
            heights.append(-1)
        elif isinstance(item, dict):
            raw, height = header_from_rpc(item, source, where)
            out += raw
            heights.append(height)
        else:
            raise ReadError(source, where, f"expected an object or a hex string, got "
                            f"{type(item).__name__}")
    known = heights if all(h >= 0 for h in heights) else None
    in_order = known is None or all(b == a + 1 for a, b in zip(known, known[1:], strict=False))
    return HeaderInput(bytes(out), "json", [source], heights=known,
                       start_height=(known[0] if in_order else min(known)) if known else None,
                       in_order=in_order)


def read_json(path: str | os.PathLike) -> HeaderInput:
    return parse_json(Path(path).read_bytes(), str(path))


class _Unxor:
    """Core's blk*.dat obfuscation: byte i of the file is XORed with key[i % 8]."""

    def __init__(self, key: bytes | None):
        self.key = bytes(key) if key else None
        self.rep = self.key * 13 if key else b""  # covers an 80-byte read at any phase

    def small(self, data: bytes, offset: int) -> bytes:
        if self.key is None:
            return bytes(data)
        phase = offset % 8
        stream = self.rep[phase:phase + len(data)]
        return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(
            len(data), "little")

    def big(self, data: bytes, offset: int) -> np.ndarray:
        arr = np.frombuffer(data, dtype=np.uint8)
        if self.key is None:
            return arr
        key = np.frombuffer(self.key, dtype=np.uint8)
        return arr ^ key[(np.arange(arr.size) + offset) % 8]


def read_blk_file(path: Path, key: bytes | None, out: bytearray,
                  network: NetworkParams | None) -> NetworkParams | None:
    """Append the header of every block record in one blk*.dat file to ``out``.

    The file is memory-mapped and only each record's 8-byte prefix and 80-byte header are
    read (and un-XORed): the transactions are skipped by their length.
    """
    source = str(path)
    size = path.stat().st_size
    unxor = _Unxor(key)
    magic_ok = network.magic if network is not None else None
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = 0
        while pos < size:
            prefix = unxor.small(mm[pos:pos + 8], pos)
            if len(prefix) < 8:
                if not any(prefix):
                    break
                raise ReadError(source, f"byte {pos}",
                                f"truncated record prefix: {len(prefix)} of 8 bytes")
            magic = prefix[:4]
            if magic != magic_ok:
                if not any(prefix):  # Core pre-allocates blk files: zeros after the last block
                    rest = unxor.big(mm[pos:size], pos)
                    nonzero = np.flatnonzero(rest)
                    if nonzero.size == 0:
                        break
                    raise ReadError(source, f"byte {pos + int(nonzero[0])}",
                                    "data after zero padding (expected a network magic)")
                net = network_of_magic(magic)
                if net is None or (network is not None and net.magic != network.magic):
                    expected = network.magic.hex() if network else "a known network magic"
                    hint = "; is the XOR key (xor.dat) missing?" if key is None else ""
                    raise ReadError(source, f"byte {pos}",
                                    f"wrong magic {magic.hex()} (expected {expected}){hint}")
                network, magic_ok = net, net.magic
            length = int.from_bytes(prefix[4:], "little")
            if length < HEADER_SIZE + 1 or length > _MAX_BLOCK_SIZE:
                raise ReadError(source, f"byte {pos + 4}",
                                f"bad block length {length} (a block is 81.."
                                f"{_MAX_BLOCK_SIZE} bytes)")
            if pos + 8 + length > size:
                raise ReadError(source, f"byte {pos + 8}",
                                f"truncated block: length says {length} bytes, "
                                f"{size - pos - 8} remain")
            out += unxor.small(mm[pos + 8:pos + 8 + HEADER_SIZE], pos + 8)
            pos += 8 + length
    return network


def read_blk(path: str | os.PathLike, network: NetworkParams | None = None,
             progress: Callable[[int, int], None] | None = None) -> HeaderInput:
    """A blk*.dat file, or a node's blocks/ folder (every blk*.dat in order, with xor.dat).

    ``progress(files_done, files_total)`` is called after each file: a mainnet node's
    folder holds thousands of them and takes about a minute.
    """
    p = Path(path)
    files = _blk_files(p) if p.is_dir() else [p]
    if not files:
        raise ReadError(str(p), "folder", "no blk*.dat files in this folder")
    folder = p if p.is_dir() else p.parent
    key = _xor_key(folder, str(p))
    out = bytearray()
    for done, f in enumerate(files, 1):
        if f.stat().st_size == 0:
            raise ReadError(str(f), "byte 0", "the file is empty")
        network = read_blk_file(f, key, out, network)
        if progress is not None:
            progress(done, len(files))
    _check_not_empty(str(p), len(out))
    return HeaderInput(bytes(out), "blk", [str(f) for f in files], network=network,
                       in_order=False)


def read_headers(path: str | os.PathLike, format: str = "auto",
                 network: NetworkParams | None = None,
                 progress: Callable[[int, int], None] | None = None) -> HeaderInput:
    """Read one file (or blocks/ folder) in the given or detected format.

    ``progress`` is passed to the blk reader (files done, files in all).
    """
    p = Path(path)
    if format not in FORMATS:
        raise ReadError(str(p), "argument", f"unknown format '{format}' "
                        f"(choose from {', '.join(FORMATS)})")
    if not p.exists():
        raise ReadError(str(p), "path", "no such file or folder")
    if p.is_dir() and format not in ("auto", "blk"):
        raise ReadError(str(p), "path", f"a folder can only be read as blk, not {format}")
    if not p.is_dir() and p.stat().st_size == 0:
        raise ReadError(str(p), "byte 0", "the file is empty")
    try:
        fmt = detect_format(p) if format == "auto" else format
        if fmt == "raw":
            return read_raw(p)
        if fmt == "electrum":
            return read_raw(p, electrum=True)
        if fmt == "hex":
            return read_hex(p)
        if fmt == "json":
            return read_json(p)
        return read_blk(p, network, progress)
    except PermissionError:
        raise ReadError(str(p), "path", "permission denied") from None
    except IsADirectoryError:
        raise ReadError(str(p), "path", "is a folder") from None


# ----------------------------------------------------------------------------- writers

def write_raw(path: str | os.PathLike, headers) -> int:
    """Write headers as raw 80-byte records; returns the count."""
    rows = header_bytes(headers)
    Path(path).write_bytes(rows.tobytes())
    return len(rows)


def write_hex(path: str | os.PathLike, headers) -> int:
    """Write headers as hex, one per line; returns the count."""
    rows = header_bytes(headers)
    Path(path).write_text("".join(r.tobytes().hex() + "\n" for r in rows))
    return len(rows)


def write_blk(path: str | os.PathLike, blocks: list[tuple[bytes, int]],
              network: NetworkParams, xor_key: bytes | None = None, seed: int = 0) -> None:
    """Write a blk*.dat-style file: each (header, tx_length) becomes a record with that many
    filler transaction bytes (for tests and examples; not a real block body)."""
    rng = np.random.default_rng(seed)
    out = bytearray()
    for header, tx_len in blocks:
        body = bytes(header) + rng.integers(0, 256, tx_len, dtype=np.uint8).tobytes()
        out += network.magic + len(body).to_bytes(4, "little") + body
    if xor_key:
        key = np.resize(np.frombuffer(xor_key, dtype=np.uint8), len(out))
        out = bytearray((np.frombuffer(bytes(out), dtype=np.uint8) ^ key).tobytes())
    Path(path).write_bytes(bytes(out))


__all__ = ["FORMATS", "HeaderInput", "NETWORKS", "detect_format", "iter_raw_chunks",
           "parse_hex", "parse_json", "read_blk", "read_headers", "read_hex", "read_json",
           "read_raw", "write_blk", "write_hex", "write_raw", "header_from_rpc"]
