"""The ASIC catalogue: nameplate specs of SHA-256 miners, each row with its public source.

The data lives in ``hashcore/data/asics.csv`` (comment lines start with ``#``). Loading checks
every field and that the stated J/TH agrees with W / (TH/s) within ``EFFICIENCY_TOLERANCE``,
so a mistyped number fails loudly with its line instead of skewing an economic model.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from hashcore.errors import InputError, ReadError

COOLINGS = ("air", "hydro", "immersion")
COLUMNS = ("maker", "model", "hashrate_ths", "power_w", "efficiency_j_per_th", "cooling",
           "release_year", "price_usd", "price_date", "source", "source_date", "note")
REQUIRED = ("maker", "model", "hashrate_ths", "power_w", "efficiency_j_per_th", "cooling",
            "source", "source_date")
EFFICIENCY_TOLERANCE = 0.01  # relative; published J/TH are rounded to 0.1
TH = 1e12
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class UnknownModel(InputError, LookupError):
    """A model name the catalogue does not hold; the message lists the closest ones."""


@dataclass(frozen=True)
class Asic:
    """One miner model as its maker (or a cited listing) rates it."""

    maker: str
    model: str
    hashrate_ths: float
    power_w: float
    efficiency_j_per_th: float
    cooling: str
    release_year: int | None
    price_usd: float | None
    price_date: str | None
    source: str
    source_date: str
    note: str = ""

    @property
    def hashrate_hs(self) -> float:
        return self.hashrate_ths * TH

    @property
    def hashes_per_joule(self) -> float:
        return TH / self.efficiency_j_per_th

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_text_file(path: str | Path) -> str:
    """A text file as str (UTF-8, a leading BOM dropped); unreadable or not text -> ReadError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(str(path), "open", exc.strerror or str(exc)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(str(path), f"byte {exc.start}", "not UTF-8 text") from None


def iter_csv_rows(text: str, source: str, required: Iterable[str]) -> Iterator[
        tuple[int, dict[str, str]]]:
    """(line number, row dict) for each data row; ``#`` lines and blank lines are skipped.

    Raises ReadError naming the line for a missing header column or a row of the wrong width.
    """
    required = tuple(required)
    header: list[str] | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            raise ReadError(source, f"line {lineno}", f"malformed CSV: {exc}") from None
        cells = [c.strip() for c in cells]
        if header is None:
            header = cells
            missing = [c for c in required if c not in header]
            if missing:
                raise ReadError(source, f"line {lineno}",
                                f"missing column(s) {', '.join(missing)} in the header")
            continue
        if len(cells) != len(header):
            raise ReadError(source, f"line {lineno}",
                            f"{len(cells)} fields, expected {len(header)} ({','.join(header)})")
        yield lineno, dict(zip(header, cells, strict=True))
    if header is None:
        raise ReadError(source, "line 1", "no header row (the file is empty)")


def parse_number(row: dict[str, str], name: str, source: str, lineno: int, *,
                 optional: bool = False, positive: bool = True) -> float | None:
    """A finite float from ``row[name]``; empty gives None when ``optional``."""
    raw = row.get(name, "")
    where = f"line {lineno}"
    if raw == "":
        if optional:
            return None
        raise ReadError(source, where, f"field '{name}' is empty")
    try:
        value = float(raw)
    except ValueError:
        raise ReadError(source, where, f"field '{name}': {raw!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ReadError(source, where, f"field '{name}': {raw!r} is not finite")
    if positive and value <= 0:
        raise ReadError(source, where, f"field '{name}': {raw} must be > 0")
    return value


def _row_to_asic(row: dict[str, str], source: str, lineno: int) -> Asic:
    where = f"line {lineno}"
    for name in REQUIRED:
        if row.get(name, "") == "":
            raise ReadError(source, where, f"field '{name}' is empty")
    hashrate = parse_number(row, "hashrate_ths", source, lineno)
    power = parse_number(row, "power_w", source, lineno)
    eff = parse_number(row, "efficiency_j_per_th", source, lineno)
    assert hashrate is not None and power is not None and eff is not None
    ratio = power / hashrate
    if abs(ratio - eff) > EFFICIENCY_TOLERANCE * eff:
        raise ReadError(source, where,
                        f"field 'efficiency_j_per_th': {eff} J/TH disagrees with power_w / "
                        f"hashrate_ths = {power} / {hashrate} = {ratio:.2f} J/TH")
    cooling = row["cooling"].lower()
    if cooling not in COOLINGS:
        raise ReadError(source, where,
                        f"field 'cooling': {row['cooling']!r} is not one of {', '.join(COOLINGS)}")
    year = None
    if row.get("release_year"):
        try:
            year = int(row["release_year"])
        except ValueError:
            raise ReadError(source, where, f"field 'release_year': {row['release_year']!r} "
                                           "is not a year") from None
        if not 2009 <= year <= 2100:
            raise ReadError(source, where, f"field 'release_year': {year} is out of range")
    price = parse_number(row, "price_usd", source, lineno, optional=True)
    price_date = row.get("price_date") or None
    if (price is None) != (price_date is None):
        raise ReadError(source, where, "fields 'price_usd' and 'price_date' must be given together")
    if price_date is not None and not _DATE.match(price_date):
        raise ReadError(source, where, f"field 'price_date': {price_date!r} is not YYYY[-MM[-DD]]")
    if not re.search(r"https?://", row["source"]) and len(row["source"]) < 10:
        raise ReadError(source, where, "field 'source' must be a URL or a publication")
    return Asic(maker=row["maker"], model=row["model"], hashrate_ths=hashrate, power_w=power,
                efficiency_j_per_th=eff, cooling=cooling, release_year=year, price_usd=price,
                price_date=price_date, source=row["source"], source_date=row["source_date"],
                note=row.get("note", ""))


def parse_catalogue(text: str, source: str = "<asics.csv>") -> list[Asic]:
    """Validate and build the catalogue from CSV text; duplicate model names are an error."""
    out: list[Asic] = []
    seen: dict[str, int] = {}
    for lineno, row in iter_csv_rows(text, source, COLUMNS):
        asic = _row_to_asic(row, source, lineno)
        key = normalize_model(asic.model)
        if key in seen:
            raise ReadError(source, f"line {lineno}",
                            f"model {asic.model!r} duplicates line {seen[key]}")
        seen[key] = lineno
        out.append(asic)
    if not out:
        raise ReadError(source, "end of file", "no ASIC rows")
    return out


def load_catalogue(path: str | Path | None = None) -> list[Asic]:
    """The shipped catalogue (cached), or one from ``path``."""
    if path is None:
        return list(_default_catalogue())
    return parse_catalogue(read_text_file(path), str(path))


@lru_cache(maxsize=1)
def _default_catalogue() -> tuple[Asic, ...]:
    ref = resources.files("hashcore.data").joinpath("asics.csv")
    return tuple(parse_catalogue(ref.read_text(encoding="utf-8"), "hashcore/data/asics.csv"))


_BRANDS = ("antminer", "whatsminer", "avalon", "bitaxe", "teraflux")


def normalize_model(name: str) -> str:
    """Lower case, no spaces/dashes/underscores; 'Hydro' and 'Hyd' compare equal."""
    key = re.sub(r"[\s_\-]+", "", name.lower())
    return key.replace("hydro", "hyd")


def _keys(asic: Asic) -> set[str]:
    full = normalize_model(asic.model)
    keys = {full, normalize_model(f"{asic.maker} {asic.model}")}
    for brand in _BRANDS:
        if full.startswith(brand) and len(full) > len(brand):
            keys.add(full[len(brand):])
    return keys


def lookup(model: str, catalogue: Iterable[Asic] | None = None) -> Asic:
    """The catalogue row for ``model`` (case, spaces and the brand prefix do not matter).

    An unknown name raises UnknownModel (an InputError and a LookupError) listing the
    closest known models.
    """
    if not isinstance(model, str) or not model.strip():
        raise InputError(f"ASIC model must be a non-empty string, got {model!r}")
    rows = list(catalogue) if catalogue is not None else list(_default_catalogue())
    want = normalize_model(model)
    for asic in rows:
        if want in _keys(asic):
            return asic
    names = {normalize_model(a.model): a.model for a in rows}
    for a in rows:
        for k in _keys(a):
            names.setdefault(k, a.model)
    close = difflib.get_close_matches(want, list(names), n=5, cutoff=0.5)
    suggestions = list(dict.fromkeys(names[c] for c in close))
    hint = (f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions
            else "; run `hashcore asics` for the list")
    raise UnknownModel(f"unknown ASIC model {model!r}{hint}")


find = lookup  # the name the scenario loader uses


SORT_KEYS = {
    "efficiency": (lambda a: a.efficiency_j_per_th, False),
    "hashrate": (lambda a: a.hashrate_ths, True),
    "power": (lambda a: a.power_w, True),
    "year": (lambda a: a.release_year or 0, True),
}


def select(catalogue: Iterable[Asic] | None = None, *, sort: str = "efficiency",
           cooling: str | None = None) -> list[Asic]:
    """Rows filtered by cooling and sorted (efficiency: best first; others: largest first)."""
    rows = list(catalogue) if catalogue is not None else list(_default_catalogue())
    if sort not in SORT_KEYS:
        raise InputError(f"unknown sort key {sort!r} (choose from {', '.join(SORT_KEYS)})")
    if cooling is not None:
        cooling = cooling.lower()
        if cooling not in COOLINGS:
            raise InputError(f"unknown cooling {cooling!r} (choose from {', '.join(COOLINGS)})")
        rows = [a for a in rows if a.cooling == cooling]
    key, reverse = SORT_KEYS[sort]
    return sorted(rows, key=key, reverse=reverse)
