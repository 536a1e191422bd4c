"""`microgpt-tui light`: light's time over a distance or between two cities, in vacuum and in
fibre; how far it gets in one clock cycle; the latency ladder."""

from __future__ import annotations

from .output import CLIError, Output

HELP = (
    "The speed of light, c = 299,792,458 m/s exactly: its time over a distance (--km) or along "
    "the great circle between two bundled cities (--from, --to), one way and round trip, in "
    "vacuum and in fibre (c / 1.47, the floor for any network round trip); how far it goes in "
    "one cycle of a clock (--ghz); the latency ladder from an L1 hit to the far side of the "
    "Earth (--ladder), orders of magnitude beside light's distance. Nothing is measured."
)


def add_arguments(parser) -> None:
    parser.add_argument("--km", metavar="D", help="a distance in km, e.g. 5570")
    parser.add_argument("--from", dest="origin", metavar="CITY",
                        help="a bundled city (a unique prefix is enough; --cities lists them)")
    parser.add_argument("--to", dest="destination", metavar="CITY", help="the other city")
    parser.add_argument("--ghz", metavar="F", help="a clock frequency in GHz, e.g. 3")
    parser.add_argument("--fibre", action="store_true",
                        help="light in fibre only (c / 1.47), not in vacuum too")
    parser.add_argument("--ladder", action="store_true",
                        help="the latency ladder: L1, L2, DRAM, SSD, data centre, continent, "
                             "the far side of the Earth")
    parser.add_argument("--cities", action="store_true", help="list the bundled cities")


def _number(text: str, option: str) -> float:
    from ...engine.basics.light_table import quote_typed

    try:
        return float(text.strip())  # Python's own rule: "1_000" yes, "1__0" and "_1" no
    except ValueError:
        raise CLIError(f"{option} must be a number, not {quote_typed(text)}") from None


def run(args, out: Output) -> int:
    given = [name for name, on in (
        ("--km", args.km is not None),
        ("--from/--to", args.origin is not None or args.destination is not None),
        ("--ghz", args.ghz is not None), ("--ladder", args.ladder), ("--cities", args.cities),
    ) if on]
    if not given:
        raise CLIError("give --km D, --from CITY --to CITY, --ghz F, --ladder or --cities")
    if len(given) > 1:
        raise CLIError(f"give only one of {', '.join(given)}")
    if args.fibre and given[0] in ("--ladder", "--cities"):
        raise CLIError(f"--fibre goes with --km, --from/--to or --ghz, not {given[0]}")
    if args.ladder:
        return _ladder(out)
    if args.cities:
        return _cities(out)
    if args.ghz is not None:
        return _cycle(args, out)
    if args.km is not None:
        return _distance(args, out)
    if args.origin is None or args.destination is None:
        raise CLIError("give both --from CITY and --to CITY")
    return _pair(args, out)


def _media(times, fibre_only: bool) -> tuple[dict, list[str]]:
    """The record's vacuum/fibre parts and their lines (vacuum left out with --fibre)."""
    from ...engine.basics import light_table as light

    record: dict = {}
    lines: list[str] = []
    media = [("fibre", light.SPEED_IN_FIBRE_KM_S, times.fibre_one_way_s,
              times.fibre_round_trip_s, f"fibre (c / {light.FIBRE_REFRACTIVE_INDEX} ≈ "
              f"{light.SPEED_IN_FIBRE_KM_S:,.0f} km/s)")]
    if not fibre_only:
        media.insert(0, ("vacuum", light.SPEED_OF_LIGHT_KM_S, times.vacuum_one_way_s,
                         times.vacuum_round_trip_s,
                         f"vacuum (c = {light.SPEED_OF_LIGHT_M_S:,} m/s)"))
    for name, speed, one_way, round_trip, words in media:
        record[name] = {"speed_km_s": speed, "one_way_s": one_way, "round_trip_s": round_trip}
        lines.append(f"  {words}: {light.format_duration(one_way)} one way, "
                     f"{light.format_duration(round_trip)} round trip")
    return record, lines


def _distance(args, out: Output) -> int:
    from ...engine.basics import light_table as light

    try:
        times = light.light_times(_number(args.km, "--km"))
    except ValueError:
        raise CLIError(f"--km must be from 0 to {light.MAX_DISTANCE_KM:g} (about a light year)"
                       f", not {light.quote_typed(args.km)}") from None
    media, lines = _media(times, args.fibre)
    out.emit({"kind": "distance", "km": times.distance_km, **media},
             "\n".join([light.format_distance(times.distance_km * 1000), *lines]))
    return 0


def _city(city) -> dict:
    return {"name": city.name, "country": city.country, "latitude": city.latitude,
            "longitude": city.longitude}


def _pair(args, out: Output) -> int:
    from ...engine.basics import light_table as light

    try:
        pair = light.city_pair(args.origin, args.destination)
    except ValueError as error:
        raise CLIError(f"{error}; --cities lists them") from None
    media, lines = _media(pair.times, args.fibre)
    low, high = pair.typical_ping_s
    factor_low, factor_high = light.TYPICAL_PING_INFLATION
    record = {
        "kind": "pair", "from": _city(pair.origin), "to": _city(pair.destination),
        "great_circle_km": pair.distance_km,
        "model": f"haversine on a sphere of radius {light.EARTH_MEAN_RADIUS_KM} km",
        **media,
        "round_trip_floor_s": pair.round_trip_floor_s,
        "typical_ping_s": [low, high], "typical_ping_measured": False,
    }
    text = [
        f"{pair.origin.name}, {pair.origin.country} → {pair.destination.name}, "
        f"{pair.destination.country}: {light.format_distance(pair.distance_km * 1000)} "
        "(great circle)",
        *lines,
        f"  round-trip floor over fibre: {light.format_duration(pair.round_trip_floor_s)}",
        f"  typical pings: ~{light.format_duration(low, 3)} – {light.format_duration(high, 3)} "
        f"({factor_low}–{factor_high}× the floor: a rule of thumb, not measured)",
    ]
    out.emit(record, "\n".join(text))
    return 0


def _cycle(args, out: Output) -> int:
    from ...engine.basics import light_table as light

    ghz = _number(args.ghz, "--ghz")
    try:
        cycle = light.per_cycle(ghz * 1e9)
    except ValueError:
        raise CLIError(f"--ghz must be from {light.MIN_FREQUENCY_HZ / 1e9:g} (1 mHz) to "
                       f"{light.MAX_FREQUENCY_HZ / 1e9:,.0f}, not {light.quote_typed(args.ghz)}"
                       ) from None
    record = {"kind": "cycle", "frequency_hz": cycle.frequency_hz, "period_s": cycle.period_s}
    covers = []
    if not args.fibre:
        record["vacuum_m"] = cycle.vacuum_m
        covers.append(f"{light.format_distance(cycle.vacuum_m)} in vacuum")
    record["fibre_m"] = cycle.fibre_m
    covers.append(f"{light.format_distance(cycle.fibre_m)} in fibre")
    out.emit(record, f"{light.format_frequency(cycle.frequency_hz)}: one cycle lasts "
                     f"{light.format_duration(cycle.period_s)}; light covers {', '.join(covers)}")
    return 0


def _ladder(out: Output) -> int:
    from ...engine.basics import light_table as light

    out.text("The latency ladder: orders of magnitude, not measurements (bar: log10 of the "
             f"time over {light.format_duration(light.LADDER_FLOOR_S)}, 3 characters per 10×)")
    for rung in light.LADDER:
        record = {"kind": "rung", "name": rung.name, "seconds": rung.seconds,
                  "what": rung.what, "source": rung.source, "light_vacuum_m": rung.vacuum_m,
                  "light_fibre_m": rung.fibre_m, "decades": rung.decades}
        bar = "#" * max(1, round(rung.decades * 3))
        out.emit(record, f"{rung.name:<19} ~{light.format_duration(rung.seconds):<7} "
                         f"{bar:<30} light: {light.format_distance(rung.vacuum_m)}")
    return 0


def _cities(out: Output) -> int:
    from ...engine.basics.cities import CITIES

    for city in CITIES:
        out.emit({"kind": "city", **_city(city)},
                 f"{city.name:<14} {city.country:<21} {city.latitude:7.2f} {city.longitude:8.2f}")
    return 0
