"""The speed of light made tangible: how long light takes over a distance (in vacuum and in
fibre), the great-circle distance and round-trip floor between two cities, how far light gets in
one clock cycle, and the latency ladder from an L1 cache hit to the far side of the Earth.

The constants and the fibre floor come from engine/light.py, which the URL screen shares: one
c, one refractive index, one floor everywhere.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass

from ..light import (
    FIBRE_REFRACTIVE_INDEX,
    SPEED_IN_FIBRE_KM_S,
    SPEED_OF_LIGHT_KM_S,
    round_trip_floor,
)
from .cities import CITIES, City

SPEED_OF_LIGHT_M_S = 299_792_458  # exact: since 1983 the metre is defined by it
SPEED_IN_FIBRE_M_S = SPEED_OF_LIGHT_M_S / FIBRE_REFRACTIVE_INDEX
REFERENCE_CLOCK_HZ = 3e9  # a typical desktop core, for "so many cycles" comparisons

# The model of the Earth: a sphere of the mean radius R1 = (2a + b) / 3 of the WGS-84 ellipsoid
# (IUGG). Great circles on it differ from geodesics on the ellipsoid by at most about 0.5%
# (the Earth is 0.34% flatter at the poles), far less than the detours real cables take.
EARTH_MEAN_RADIUS_KM = 6371.0088
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_MEAN_RADIUS_KM  # the farthest two points can be

MAX_DISTANCE_KM = 1e13  # about a light year: beyond it times stop meaning anything here
MAX_FREQUENCY_HZ = 1e15  # 1 PHz, ultraviolet light: no clock runs faster
MIN_FREQUENCY_HZ = 1e-3  # 1 mHz, a cycle of 16.67 min: the slowest unit the calculator reads

# Measured pings run above the fibre floor: cables detour, routers and queues add time. Between
# well-connected cities on direct cables about 1.3× (London–New York: floor 54.6 ms, pings
# ~70 ms); the rule of thumb from earlier measurement campaigns is 2.1× (Bozkurt et al.,
# "Dissecting Latency in the Internet's Fiber Infrastructure", 2017: multiply line-of-sight
# distance by 2.1, divide by the speed of light in fibre). A band for words, never a measurement.
TYPICAL_PING_INFLATION = (1.3, 2.1)


# -- time over a distance ------------------------------------------------------------------------


@dataclass(frozen=True)
class LightTimes:
    """Light's times over `distance_km`, in seconds, one way and there and back."""

    distance_km: float
    vacuum_one_way_s: float
    vacuum_round_trip_s: float
    fibre_one_way_s: float
    fibre_round_trip_s: float

    def cycles(self, frequency_hz: float = REFERENCE_CLOCK_HZ) -> float:
        """Clock cycles that pass while light crosses the distance once, in vacuum."""
        return self.vacuum_one_way_s * frequency_hz


def _check_km(distance_km: float) -> float:
    if not (math.isfinite(distance_km) and 0 <= distance_km <= MAX_DISTANCE_KM):
        raise ValueError(f"a distance is from 0 to {MAX_DISTANCE_KM:g} km, not {distance_km}")
    return float(distance_km)


def light_times(distance_km: float) -> LightTimes:
    """Light's one-way and round-trip times over `distance_km` (0 … MAX_DISTANCE_KM), in vacuum
    and in fibre (c / 1.47); ValueError for a negative, non-finite or too large distance."""
    km = _check_km(distance_km)
    vacuum = km / SPEED_OF_LIGHT_KM_S
    return LightTimes(km, vacuum, 2 * vacuum, km / SPEED_IN_FIBRE_KM_S, round_trip_floor(km))


@dataclass(frozen=True)
class ClockCycle:
    """One tick of a clock at `frequency_hz`, and how far light gets in it."""

    frequency_hz: float
    period_s: float
    vacuum_m: float  # metres light covers in one period, in vacuum
    fibre_m: float  # … and in fibre


def per_cycle(frequency_hz: float) -> ClockCycle:
    """How far light goes in one cycle of a clock at `frequency_hz` (3 GHz → 9.99 cm)."""
    if not (math.isfinite(frequency_hz) and MIN_FREQUENCY_HZ <= frequency_hz <= MAX_FREQUENCY_HZ):
        raise ValueError(f"a frequency is from {MIN_FREQUENCY_HZ:g} to {MAX_FREQUENCY_HZ:g} Hz, "
                         f"not {frequency_hz}")
    return ClockCycle(float(frequency_hz), 1 / frequency_hz, SPEED_OF_LIGHT_M_S / frequency_hz,
                      SPEED_IN_FIBRE_M_S / frequency_hz)


# -- typed quantities: "5570 km", "30 cm", "3 GHz" -----------------------------------------------

# Unit symbols are read in their own case where case changes the meaning: "mm" is a millimetre
# and "Mm" a megametre, "mHz" a millihertz and "MHz" a megahertz. Other symbols may be typed in
# any case ("KM", "ghz"); a spelling that folds onto two symbols ("mhz", "MM") is refused,
# unless a capital first letter alone says which ("Mhz").
DISTANCE_UNITS_KM = {
    "Mm": 1e3, "km": 1.0, "m": 1e-3, "cm": 1e-5, "mm": 1e-6, "µm": 1e-9, "um": 1e-9,
    "nm": 1e-12, "mi": 1.609344, "ft": 0.0003048,  # the international mile and foot, exactly
}
FREQUENCY_UNITS_HZ = {"mHz": 1e-3, "Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9, "THz": 1e12}
# Spelled-out names: case never matters; a final "s" is dropped ("metres", "megahertz").
UNIT_NAMES = {
    "megametre": "Mm", "megameter": "Mm", "kilometre": "km", "kilometer": "km",
    "metre": "m", "meter": "m", "centimetre": "cm", "centimeter": "cm",
    "millimetre": "mm", "millimeter": "mm", "micrometre": "µm", "micrometer": "µm",
    "micron": "µm", "nanometre": "nm", "nanometer": "nm", "mile": "mi", "foot": "ft",
    "feet": "ft", "millihertz": "mHz", "hertz": "Hz", "kilohertz": "kHz", "megahertz": "MHz",
    "gigahertz": "GHz", "terahertz": "THz",
}
UNIT_WORDS = {"Mm": "megametres", "mm": "millimetres", "mHz": "millihertz", "MHz": "megahertz"}
# A number: digits with single underscores only between two of them (1_000, as Python and the
# Bits screen read it), commas checked below, an optional fraction and exponent.
_QUANTITY = re.compile(r"^([-+]?(?:\d+(?:[_,]\d+)*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*([^\d\s].*)?$",
                       re.IGNORECASE)
_GROUPED = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:e[-+]?\d+)?$", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"^[-+]?[\d_,.]*")
_MISPLACED_UNDERSCORE = re.compile(r"__|(?<!\d)_|_(?!\d)")


def quote_typed(text: str) -> str:
    """What was typed, quoted for a message: at most 40 characters of it."""
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:40] + "…")


@dataclass(frozen=True)
class Quantity:
    """A typed distance (in km) or frequency (in Hz)."""

    kind: str  # "distance" or "frequency"
    value: float  # km for a distance, Hz for a frequency


def unit_symbol(unit: str) -> str:
    """The unit symbol `unit` stands for ("KM" → "km", "metres" → "m", "MHz" → "MHz");
    ValueError for an unknown unit or one whose case decides between two ("mhz", "MM")."""
    typed = unit.strip().replace("μ", "µ")  # Greek mu and the micro sign read the same
    symbols = {**DISTANCE_UNITS_KM, **FREQUENCY_UNITS_HZ}
    for spelling in (typed, typed[:-1] if typed.endswith("s") and len(typed) > 2 else None):
        if spelling is None:
            continue
        if spelling in symbols:
            return spelling
        if spelling.lower() in UNIT_NAMES:
            return UNIT_NAMES[spelling.lower()]
        folded = [symbol for symbol in symbols if symbol.lower() == spelling.lower()]
        if len(folded) == 1:
            return folded[0]
        if spelling[0].isupper() and not spelling.isupper():  # "Mhz": the capital says mega
            same_prefix = [symbol for symbol in folded if symbol[0] == spelling[0]]
            if len(same_prefix) == 1:
                return same_prefix[0]
        if folded:
            choices = " or ".join(f"{s} ({UNIT_WORDS.get(s, s)})" for s in folded)
            raise ValueError(f"{quote_typed(unit)} could be {choices}: type it in that case")
    raise ValueError(f"unknown unit {quote_typed(unit)}: try km, m, cm, mm, µm, mi, ft, or Hz, "
                     "MHz, GHz")


def parse_quantity(text: str) -> Quantity:
    """A distance ("5570 km", "30 cm", "384400km"; a bare number is km) or a frequency
    ("3 GHz"); ValueError with one line saying what was wrong."""
    typed = text.strip()
    if not typed:
        raise ValueError("type a distance such as 5570 km or 30 cm, or a frequency such as 3 GHz")
    leading = _LEADING_NUMBER.match(typed).group()  # type: ignore[union-attr]
    if _MISPLACED_UNDERSCORE.search(leading):
        raise ValueError(f"{quote_typed(leading)}: an underscore goes only between two digits, "
                         "one at a time (1_000)")
    match = _QUANTITY.match(typed)
    if not match:
        raise ValueError(f"{quote_typed(typed)} is not a number with a unit, such as 5570 km "
                         "or 3 GHz")
    number, unit = match.group(1), match.group(2) or "km"
    if "," in number and not _GROUPED.match(number):
        raise ValueError(f"{quote_typed(number)}: commas only between groups of three digits "
                         "(5,570)")
    value = float(number.replace(",", "").replace("_", ""))
    key = unit_symbol(unit)
    if key in FREQUENCY_UNITS_HZ:
        hz = value * FREQUENCY_UNITS_HZ[key]
        if not (math.isfinite(hz) and MIN_FREQUENCY_HZ <= hz <= MAX_FREQUENCY_HZ):
            raise ValueError("a frequency is from 1 mHz to 1 PHz, not "
                             f"{quote_typed(typed)}")
        return Quantity("frequency", hz)
    km = value * DISTANCE_UNITS_KM[key]
    if not (math.isfinite(km) and 0 <= km <= MAX_DISTANCE_KM):
        raise ValueError(f"a distance is from 0 to {MAX_DISTANCE_KM:g} km (about a light "
                         f"year), not {quote_typed(typed)}")
    return Quantity("distance", km)


def calculate(text: str) -> LightTimes | ClockCycle:
    """What the calculator shows for typed text: times over a distance, or one clock cycle."""
    quantity = parse_quantity(text)
    if quantity.kind == "frequency":
        return per_cycle(quantity.value)
    return light_times(quantity.value)


# -- cities and great circles --------------------------------------------------------------------


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in km between two points given in degrees (north and east
    positive), on a sphere of the Earth's mean radius, by the haversine formula — which stays
    accurate for nearby points, where the spherical law of cosines loses its digits."""
    for lat, lon in ((lat1, lon1), (lat2, lon2)):
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):
            raise ValueError(f"({lat}, {lon}) is not a latitude in [-90, 90] and a longitude "
                             "in [-180, 180]")
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_MEAN_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))  # rounding: h ≤ 1


def _plain(name: str) -> str:
    """A name as lookups compare it: accents dropped, case folded, spaces single."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[.'’\-]", " ", letters.casefold()).split())


def _names(cities: list[City], most: int = 4) -> str:
    """"London or Los Angeles"; past `most` names, "… or 5 more"."""
    names = [c.name for c in cities[:most]]
    if len(cities) > most:
        return f"{', '.join(names)} or {len(cities) - most} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def find_city(name: str) -> City:
    """The bundled city called `name`: case and accents optional ("sao paulo"), a prefix that
    fits one city ("lond") or the start of one of its words ("york"). ValueError otherwise,
    naming the cities it could be or the closest spellings."""
    wanted = _plain(name)
    if not wanted:
        raise ValueError("type a city name, such as London or New York")
    exact = [c for c in CITIES if _plain(c.name) == wanted]
    if exact:
        return exact[0]
    for fits in (lambda plain: plain.startswith(wanted),
                 lambda plain: any(word.startswith(wanted) for word in plain.split())):
        found = [c for c in CITIES if fits(_plain(c.name))]
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(f"{quote_typed(name)} could be {_names(found)}: type more of it")
    plain_names = {_plain(c.name): c for c in CITIES}
    close = difflib.get_close_matches(wanted, list(plain_names), n=3, cutoff=0.6)
    if close:
        raise ValueError(f"no city called {quote_typed(name)}; did you mean "
                         f"{_names([plain_names[p] for p in close])}?")
    raise ValueError(f"no city called {quote_typed(name)} in the table of {len(CITIES)} "
                     f"(e.g. {_names(list(CITIES[:3]))})")


_PAIR_SEPARATOR = re.compile(r"\s+to\s+|\s*(?:→|->|–|—|-|,|/)\s*", re.IGNORECASE)


def parse_city_pair(text: str) -> tuple[City, City]:
    """Two cities typed as "London to New York" (or with →, -, a comma or a slash)."""
    parts = [part for part in _PAIR_SEPARATOR.split(text.strip()) if part.strip()]
    if len(parts) != 2:
        raise ValueError("type two cities, such as: London to New York")
    return find_city(parts[0]), find_city(parts[1])


@dataclass(frozen=True)
class CityPair:
    """Two cities, the great circle between them and light's times along it."""

    origin: City
    destination: City
    distance_km: float
    times: LightTimes

    @property
    def round_trip_floor_s(self) -> float:
        """The fastest any round trip between them can be: fibre laid along the great circle."""
        return self.times.fibre_round_trip_s

    @property
    def typical_ping_s(self) -> tuple[float, float]:
        """The band measured pings usually fall in (TYPICAL_PING_INFLATION × the floor): a rule
        of thumb, not a measurement."""
        low, high = TYPICAL_PING_INFLATION
        return low * self.round_trip_floor_s, high * self.round_trip_floor_s


def city_pair(origin: City | str, destination: City | str) -> CityPair:
    """The great circle between two bundled cities (by City or by name, as find_city takes)."""
    a = origin if isinstance(origin, City) else find_city(origin)
    b = destination if isinstance(destination, City) else find_city(destination)
    km = great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude)
    return CityPair(a, b, km, light_times(km))


def round_trip_floor_between(origin: City | str, destination: City | str) -> float:
    """The fibre round-trip floor, in seconds, between two bundled cities."""
    return city_pair(origin, destination).round_trip_floor_s


# -- the latency ladder --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    """One order of magnitude on the latency ladder: a typical time, not a measurement."""

    name: str  # short, for the chart's label column
    seconds: float
    what: str  # the time in a sentence
    source: str  # where the order of magnitude comes from
    floor_km: float | None = None  # a fibre floor over this many km one way, not hardware's time

    @property
    def vacuum_m(self) -> float:
        """Metres light covers in this time, in vacuum."""
        return self.seconds * SPEED_OF_LIGHT_M_S

    @property
    def fibre_m(self) -> float:
        return self.seconds * SPEED_IN_FIBRE_M_S

    @property
    def decades(self) -> float:
        """log10 of the time over LADDER_FLOOR_S: the length of its bar on a log scale."""
        return math.log10(self.seconds / LADDER_FLOOR_S)


# Orders of magnitude only. The first five are typical times that move with the hardware by a
# factor of 2 or more, from the well-known "Latency numbers every programmer should know" (Jeff
# Dean's talks; Peter Norvig, "Teach Yourself Programming in Ten Years", 2001), rounded to the
# order they stand for; the last two are this module's own fibre floors: least times set by
# distance, which no hardware lowers (real pings run TYPICAL_PING_INFLATION above them).
LADDER: tuple[Rung, ...] = (
    # The lists' "L1 cache reference 0.5 ns": about 4 cycles of a 4 GHz core.
    Rung("L1 cache hit", 1e-9, "a load served by the core's own level-1 cache",
         "'latency numbers' lists: L1 cache reference 0.5 ns (~4 cycles)"),
    # The lists say 7 ns for L2 (2000s cores); current cores answer in ~12-15 cycles, ~4 ns.
    Rung("L2 cache hit", 4e-9, "a load that misses L1 and hits the level-2 cache",
         "'latency numbers' lists: L2 7 ns; ~12 cycles on current cores"),
    # "Main memory reference 100 ns": a row opened in DRAM, beyond every cache.
    Rung("DRAM read", 100e-9, "a load that misses every cache and goes to main memory",
         "'latency numbers' lists: main memory reference 100 ns"),
    # The lists give 150 µs for a 4 KB random SSD read; NVMe drives are nearer 100 µs at QD1.
    Rung("NVMe SSD read", 100e-6, "a random 4 KB read from an NVMe flash drive",
         "'latency numbers' lists: SSD random read 150 µs; NVMe ~100 µs"),
    # "Round trip within same datacenter 500 µs".
    Rung("Same data centre", 0.5e-3, "a network round trip between two machines in one "
         "data centre", "'latency numbers' lists: round trip within a data centre 500 µs"),
    # Coast to coast in the US is ~4,000 km: the fibre floor alone is 39 ms (pings ~60-70 ms).
    Rung("Across a continent", 40e-3, "a round trip across a continent, ~4,000 km each way",
         "the fibre floor over 4,000 km (US coast to coast) is 39 ms", floor_km=4000.0),
    # The antipodes are half a circumference, 20,015 km, away: a fibre floor of 196 ms.
    Rung("Earth's far side", 200e-3, "a round trip to the other side of the Earth",
         "the fibre floor to the antipodes (20,015 km) is 196 ms",
         floor_km=HALF_CIRCUMFERENCE_KM),
)
LADDER_FLOOR_S = 1e-10  # the left edge of the drawing: bars start here, so 1 ns shows one decade
LADDER_CEILING_S = 1.0  # the right edge
LADDER_DECADES = round(math.log10(LADDER_CEILING_S / LADDER_FLOOR_S))


# -- words for numbers (the screen, the CLI and the tests share them) ---------------------------

_TIME_UNITS = ((1e-15, "fs"), (1e-12, "ps"), (1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"), (1.0, "s"),
               (60.0, "min"))
# Hours, days and years only from two of them on: "90 min" reads better than "1.5 h".
_LONG_TIME_UNITS = ((31_557_600.0, "years"), (86_400.0, "days"), (3600.0, "h"))
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _digits(value: float, digits: int) -> str:
    """`digits` significant digits, never in exponent form; thousands grouped (5,570)."""
    text = f"{value:.{digits}g}"
    return f"{value:,.0f}" if "e" in text or value >= 1000 else text


def _rounds_to_one_or_more(value: float, digits: int) -> bool:
    """Whether `value` shows as 1 or more at `digits` digits: 999.96 µs is "1 ms", not
    "1000 µs"; 59.998 s is "1 min"."""
    return float(f"{value:.{digits}g}") >= 1


def scientific(value: float, digits: int = 4) -> str:
    """A number too small (or large) for any unit, as people write it: "3.336×10⁻⁵¹"."""
    mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPTS)}"


def format_duration(seconds: float, digits: int = 4) -> str:
    """A time in the unit that suits it, to `digits` significant digits: "333.3 ps",
    "18.58 ms", "16.67 min", "381.9 days"; below a femtosecond "3.336×10⁻⁵¹ s"."""
    if seconds == 0:
        return "0 s"
    for size, unit in _LONG_TIME_UNITS:
        if seconds >= 2 * size:
            return f"{_digits(seconds / size, digits)} {unit}"
    for size, unit in reversed(_TIME_UNITS):
        if _rounds_to_one_or_more(seconds / size, digits):
            return f"{_digits(seconds / size, digits)} {unit}"
    return f"{scientific(seconds, digits)} s"


def format_distance(metres: float, digits: int = 4) -> str:
    """A distance in the unit that suits it, to `digits` significant digits: "9.993 cm",
    "29.98 km", "5,570 km"; below a nanometre "1×10⁻⁴² m"."""
    if metres == 0:
        return "0 m"
    km = metres / 1000
    if km >= 9999.5:
        return f"{km:,.0f} km"
    for size, unit in ((1e3, "km"), (1.0, "m"), (1e-2, "cm"), (1e-3, "mm"), (1e-6, "µm"),
                       (1e-9, "nm")):
        if _rounds_to_one_or_more(metres / size, digits):
            return f"{_digits(metres / size, digits)} {unit}"
    return f"{scientific(metres, digits)} m"


def format_frequency(hz: float) -> str:
    """A frequency in the unit that suits it: "3 GHz", "100 MHz", "5 mHz"."""
    for size, unit in ((1e12, "THz"), (1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz")):
        if _rounds_to_one_or_more(hz / size, 4):
            return f"{hz / size:.4g} {unit}"
    return f"{hz * 1e3:.4g} mHz"
