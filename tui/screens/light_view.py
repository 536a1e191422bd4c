"""The Light screen's view-model: the words and pictures of its three views (the calculator,
city pairs, the latency ladder) and of its explanation panel. No widgets here; every number comes
from engine/basics/light_table.py, colours are theme variables.
"""

from __future__ import annotations

from textual.content import Content

from ...engine.basics import light_table as light
from ...engine.basics.cities import City
from ..kit.tabs import tabs_line as views_line

VIEWS = ("calculator", "cities", "ladder")
VIEW_TITLES = {"calculator": "Calculator", "cities": "City pairs", "ladder": "Ladder"}
EXAMPLES = ("5570 km", "30 cm", "1 m", "3 GHz", "384400 km", "20015 km", "100 MHz")  # d / D
DEFAULT_PAIR = ("London", "New York")
PLACEHOLDERS = {
    "calculator": "a distance (5570 km, 30 cm) or a frequency (3 GHz)",
    "cities": "two cities: London to New York",
}
HINTS = {
    "calculator": "km, m, cm, mm, µm, mi, or Hz … GHz (mm ≠ Mm) · Enter works it out · "
                  "Esc leaves",
    "cities": "two cities (a prefix is enough) · Enter sets them · Esc leaves",
}
PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"  # a bar's last cell, in eighths
LABEL_WIDTH = 21  # the ladder's rung names, with the ▸ of the one chosen
TIME_WIDTH = 8  # "~100 ns"
DISTANCE_WIDTH = 11  # " 59,958 km"
ROW = "{:<14}"  # a city's name in the list


def tabs_line(current: str) -> Content:
    return views_line([VIEW_TITLES[name] for name in VIEWS], VIEWS.index(current), "v next")


def duration(seconds: float) -> str:
    return light.format_duration(seconds)


def rough(seconds: float) -> str:
    """A time to three significant digits, for numbers that are only a band: "71 ms"."""
    return light.format_duration(seconds, digits=3)


def distance_km(km: float) -> str:
    return light.format_distance(km * 1000)


def count(value: float) -> str:
    """A count of cycles in words people read: 3.3, 5,574, 55.74 million."""
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= size:
            return f"{value / size:.4g} {word}"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.001 else light.scientific(value, 3)


# -- the calculator --------------------------------------------------------------------------


def _times_row(label: str, one_way: str, round_trip: str) -> Content:
    return Content.assemble((f"  {label:<27}", "$text-muted"), f"{one_way:>11}   ",
                            f"{round_trip:>11}")


def calculator_text(result: light.LightTimes | light.ClockCycle) -> Content:
    """The calculator's answer: times over a distance, or one clock cycle."""
    if isinstance(result, light.ClockCycle):
        hz = result.frequency_hz
        return Content("\n").join([
            Content.assemble((frequency(hz), "bold"), ": one cycle lasts ",
                             (duration(result.period_s), "bold")),
            "",
            Content.assemble(("  light in vacuum (c)", "$text-muted"), "        ",
                             (light.format_distance(result.vacuum_m), "bold"), " per cycle"),
            Content.assemble(("  light in fibre (c / 1.47)", "$text-muted"), "  ",
                             light.format_distance(result.fibre_m), " per cycle"),
            "",
            Content.styled(f"c = {light.SPEED_OF_LIGHT_M_S:,} m/s exactly: "
                           f"{light.format_distance(light.SPEED_OF_LIGHT_M_S * 1e-9)} per ns",
                           "$text-muted"),
        ])
    lines = [
        Content.assemble((distance_km(result.distance_km), "bold"),
                         " " * max(1, 27 - len(distance_km(result.distance_km))),
                         ("    one way", "$text-muted"), ("     round trip", "$text-muted")),
        _times_row("light in vacuum (c)", duration(result.vacuum_one_way_s),
                   duration(result.vacuum_round_trip_s)),
        _times_row("light in fibre (c / 1.47)", duration(result.fibre_one_way_s),
                   duration(result.fibre_round_trip_s)),
        "",
        Content.styled(f"c = {light.SPEED_OF_LIGHT_M_S:,} m/s exactly · in fibre "
                       f"≈ {light.SPEED_IN_FIBRE_KM_S:,.0f} km/s", "$text-muted"),
    ]
    if result.distance_km > 0:
        lines.append(Content.styled(
            f"One way in vacuum lasts {count(result.cycles())} cycles of a 3 GHz clock.",
            "$text-muted"))
    return Content("\n").join(lines)


def frequency(hz: float) -> str:
    return light.format_frequency(hz)


def calculator_explanation(result: light.LightTimes | light.ClockCycle) -> str:
    """The numbers on show in words first (the panel may show only its first lines), then
    where c and the fibre factor come from."""
    if isinstance(result, light.ClockCycle):
        here = (f"At {frequency(result.frequency_hz)} a cycle lasts "
                f"{duration(result.period_s)}, in which light gets "
                f"{light.format_distance(result.vacuum_m)} "
                f"({light.format_distance(result.fibre_m)} in fibre). Signals in a chip's wires "
                "are slower still, so a signal cannot cross a large chip in one cycle: that is "
                "why caches sit right beside the core.")
    else:
        here = (f"{distance_km(result.distance_km)} takes {duration(result.vacuum_one_way_s)} "
                f"in vacuum and {duration(result.fibre_one_way_s)} in fibre, one way. A request "
                f"and its answer over fibre need at least {duration(result.fibre_round_trip_s)}"
                ", whatever the software does.")
    return (here + f"\n\nLight in vacuum covers exactly {light.SPEED_OF_LIGHT_M_S:,} m/s: since "
            "1983 the metre is defined by it. That is about 30 cm per nanosecond, 300 km per "
            "millisecond.\n\nIn optical fibre light crosses glass with a refractive index of "
            f"about {light.FIBRE_REFRACTIVE_INDEX}, at c / {light.FIBRE_REFRACTIVE_INDEX} ≈ "
            f"{light.SPEED_IN_FIBRE_KM_S:,.0f} km/s: two thirds of c, about 200 km per "
            "millisecond.")


# -- city pairs -------------------------------------------------------------------------------


def city_prompt(city: City, role: str) -> Content:
    """One row of the city list: the name, and "from" / "to" where the pair uses it."""
    tag = {"from": "◂ from", "to": "◂ to", "both": "◂ both"}.get(role, "")
    return Content.assemble(ROW.format(city.name), (tag, "bold $accent"))


def _place(city: City) -> str:
    ns = "N" if city.latitude >= 0 else "S"
    ew = "E" if city.longitude >= 0 else "W"
    return f"{abs(city.latitude):.2f}° {ns} {abs(city.longitude):.2f}° {ew}"


def pair_text(pair: light.CityPair, picking: str) -> Content:
    """The pair's great circle, light's times along it, and what pings typically take."""
    times = pair.times
    low, high = pair.typical_ping_s
    label = {"from": "From", "to": "To"}
    rows = []
    for role, city in (("from", pair.origin), ("to", pair.destination)):
        marker = ("▸ ", "bold $accent") if picking == role else ("  ", "")
        rows.append(Content.assemble(marker, (f"{label[role]:<5}", "$text-muted"),
                                     (city.name, "bold"), f", {city.country}"))
        rows.append(Content.styled(f"       {_place(city)}", "$text-muted"))
    same = ([Content.styled("Both ends are the same city: pick another for one of them.",
                            "$warning")] if pair.origin == pair.destination else [])
    return Content("\n").join([
        *rows,
        *same,
        "",
        Content.assemble(("Great circle  ", "$text-muted"),
                         (distance_km(pair.distance_km), "bold")),
        Content.assemble(("Vacuum        ", "$text-muted"), duration(times.vacuum_one_way_s),
                         " one way, ", duration(times.vacuum_round_trip_s), " round trip"),
        Content.assemble(("Fibre floor   ", "$text-muted"), duration(times.fibre_one_way_s),
                         " one way, ", (duration(times.fibre_round_trip_s), "bold"),
                         " round trip"),
        Content.assemble(("Typical ping  ", "$text-muted"),
                         f"~{rough(low)} – {rough(high)}",
                         (" (a rule of thumb, not measured here)", "$text-muted")),
    ])


def pair_explanation(pair: light.CityPair) -> str:
    low, high = pair.typical_ping_s
    factor_low, factor_high = light.TYPICAL_PING_INFLATION
    if pair.origin == pair.destination:
        return (f"From {pair.origin.name} to itself: no distance, so light takes no time. Pick "
                "another city for one end: ↑/↓ then Enter, or f / t.")
    return (
        f"{pair.origin.name} to {pair.destination.name}: {distance_km(pair.distance_km)} along "
        "the great circle, the shortest path over the Earth's surface. Fibre laid along it "
        f"would carry light there in {duration(pair.times.fibre_one_way_s)}, so no round trip "
        f"between them can take less than {duration(pair.round_trip_floor_s)}.\n\n"
        "Real cables detour, and routers and queues add their time: a ping between "
        f"well-connected cities typically takes {factor_low}–{factor_high}× this floor, about "
        f"{rough(low)} – {rough(high)} here. That band is a rule of thumb from published "
        "measurements; this screen measures no ping.\n\n"
        "The distance comes from the haversine formula on a sphere of the Earth's mean radius, "
        f"{light.EARTH_MEAN_RADIUS_KM:,} km; the real, slightly flattened Earth differs by "
        "under 0.5%.")


# -- the latency ladder -------------------------------------------------------------------------


def _bar(cells: float) -> str:
    eighths = max(1, round(cells * 8))  # every rung shows at least a sliver
    return "█" * (eighths // 8) + PARTIAL_BLOCKS[eighths % 8].strip()


def _axis(per_decade: int) -> tuple[str, str]:
    """The scale under the bars: a tick per decade, labelled at 1 ns, 1 µs, 1 ms and 1 s."""
    decades = light.LADDER_DECADES
    line = "├" + ("─" * (per_decade - 1) + "┼") * (decades - 1) + "─" * (per_decade - 1) + "┤"
    labels = [" "] * (len(line) + 4)
    for decade, text in ((1, "1 ns"), (4, "1 µs"), (7, "1 ms"), (10, "1 s")):
        start = min(decade * per_decade - len(text) // 2, len(labels) - len(text))
        labels[start:start + len(text)] = list(text)
    return line, "".join(labels).rstrip()


def ladder_text(width: int, selected: int) -> Content:
    """The ladder as a log-scale bar chart `width` cells wide: a bar per rung, as long as
    log10 of its time (from LADDER_FLOOR_S), with the time and light's distance in it."""
    indent = LABEL_WIDTH + TIME_WIDTH
    per_decade = max(2, (width - indent - DISTANCE_WIDTH) // light.LADDER_DECADES)
    lines = [
        Content.assemble(("Latency ladder", "bold"), " · orders of magnitude, not measurements"),
        Content.styled(f"{'':<{LABEL_WIDTH}}{'time':>{TIME_WIDTH - 1}}  log scale: 10× per "
                       "tick · light's distance", "$text-muted"),
    ]
    for index, rung in enumerate(light.LADDER):
        chosen = index == selected
        name = ("▸ " if chosen else "  ") + rung.name
        cells = rung.decades * per_decade
        lines.append(Content.assemble(
            (f"{name:<{LABEL_WIDTH}}", "bold" if chosen else ""),
            (f"{'~' + duration(rung.seconds):>{TIME_WIDTH - 1}} ", "bold" if chosen else ""),
            (_bar(cells), "$accent" if chosen else "$primary"),
            " ", (light.format_distance(rung.vacuum_m), "bold" if chosen else "$text-muted"),
        ))
    axis, labels = _axis(per_decade)
    lines.append(Content.styled(" " * indent + axis, "$text-muted"))
    lines.append(Content.styled(" " * indent + labels, "$text-muted"))
    lines.append(Content.styled("The last three are network round trips; light's distance is "
                                "in vacuum.", "$text-muted"))
    return Content("\n").join(lines)


def ladder_explanation(selected: int) -> str:
    rung = light.LADDER[selected]
    span = light.LADDER[-1].decades - light.LADDER[0].decades
    if rung.floor_km is None:
        kind = "An order of magnitude, not a measurement: hardware moves it by 2× or more."
    else:
        low, high = light.TYPICAL_PING_INFLATION
        kind = (f"A floor, not a typical ping: fibre along the great circle over "
                f"{distance_km(rung.floor_km)} takes this long there and back, whatever the "
                f"hardware; measured pings run {low}–{high}× above it.")
    return (
        f"{rung.name}: ~{duration(rung.seconds)}, {rung.what}. {kind}\n\nIn that time light "
        "covers "
        f"{light.format_distance(rung.vacuum_m)} in vacuum "
        f"({light.format_distance(rung.fibre_m)} in fibre).\n\nSource: {rung.source}.\n\n"
        "Each rung is a bar as long as log10 of its time: one tick further right is ten "
        f"times longer. From an L1 hit to the far side of the Earth is {span:.1f} orders of "
        "magnitude.")


# -- the lines under the views ----------------------------------------------------------------


def keys_line(view: str, picking: str) -> Content:
    """The keys of the view on show, in one line."""
    if view == "calculator":
        text = "e type a distance or a frequency · d / D next / previous example"
    elif view == "cities":
        text = f"↑/↓ move · Enter picks the '{picking}' city · f from · t to · x swap · e type"
    else:
        text = "↑/↓ pick a rung: the panel says what it is and where the number comes from"
    return Content.styled(text, "$text-muted")


def message_line(view: str, error: str) -> Content:
    """Under the input: what was wrong with the text typed, or what it takes."""
    if error:
        return Content.assemble(("✗ ", "bold $error"), (error, "$error"))
    return Content.styled(HINTS.get(view, ""), "$text-muted")
