"""The speed-of-light engine (engine/basics/light_table.py, cities.py): c exact, the fibre factor,
great circles against published distances and an independent formula, antipodes and identical
points, clock cycles, the latency ladder, city lookup and typed units."""

from __future__ import annotations

import math

import pytest

from microgpt_tui.engine.basics import light_table as light
from microgpt_tui.engine.basics.cities import CITIES
from microgpt_tui.engine.light import round_trip_floor

# Great-circle distances as distance calculators publish them (the figure moves by a few km with
# the point taken as a city's centre; 0.5% also covers the sphere against the ellipsoid).
PUBLISHED_KM = [
    ("London", "New York", 5570),
    ("Sydney", "London", 16990),
    ("Tokyo", "San Francisco", 8280),
    ("London", "Paris", 344),
    ("Los Angeles", "New York", 3940),
]


# -- c and fibre ------------------------------------------------------------------------------


def test_c_is_exact_and_shared_with_the_url_screen():
    assert light.SPEED_OF_LIGHT_M_S == 299_792_458 and isinstance(light.SPEED_OF_LIGHT_M_S, int)
    assert light.SPEED_OF_LIGHT_KM_S * 1000 == light.SPEED_OF_LIGHT_M_S
    one_second = light.light_times(299_792.458)
    assert one_second.vacuum_one_way_s == 1.0 and one_second.vacuum_round_trip_s == 2.0


def test_fibre_is_c_over_1_47_and_its_round_trip_is_the_shared_floor():
    times = light.light_times(5570)
    assert times.fibre_one_way_s / times.vacuum_one_way_s == pytest.approx(1.47)
    assert light.SPEED_IN_FIBRE_M_S == pytest.approx(203_940_447.6, rel=1e-9)
    assert times.fibre_round_trip_s == round_trip_floor(5570)
    assert times.fibre_round_trip_s == pytest.approx(2 * times.fibre_one_way_s)
    assert times.vacuum_one_way_s == pytest.approx(0.018_579_5, rel=1e-5)  # 5570 / c by hand
    assert times.fibre_round_trip_s == pytest.approx(0.054_623_8, rel=1e-5)


def test_zero_distance_takes_no_time():
    times = light.light_times(0)
    assert times.vacuum_one_way_s == times.fibre_round_trip_s == 0.0


@pytest.mark.parametrize("km", [-1.0, math.nan, math.inf, 1.1e13])
def test_impossible_distances_are_refused(km):
    with pytest.raises(ValueError):
        light.light_times(km)


# -- great circles -------------------------------------------------------------------------------


def _by_dot_product(lat1, lon1, lat2, lon2) -> float:
    """The same great circle by another route: the angle between the two unit vectors."""
    def vector(lat, lon):
        phi, lam = math.radians(lat), math.radians(lon)
        return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))

    a, b = vector(lat1, lon1), vector(lat2, lon2)
    cross = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return light.EARTH_MEAN_RADIUS_KM * math.atan2(math.hypot(*cross), dot)


@pytest.mark.parametrize("origin, destination, km", PUBLISHED_KM)
def test_great_circles_match_published_distances_within_half_a_percent(origin, destination, km):
    pair = light.city_pair(origin, destination)
    assert pair.distance_km == pytest.approx(km, rel=0.005)
    assert light.city_pair(destination, origin).distance_km == pytest.approx(pair.distance_km)


def test_haversine_agrees_with_an_independent_formula_for_every_pair():
    for a in CITIES:
        for b in CITIES:
            km = light.great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude)
            expected = _by_dot_product(a.latitude, a.longitude, b.latitude, b.longitude)
            assert km == pytest.approx(expected, rel=1e-9, abs=1e-6), (a.name, b.name)


@pytest.mark.parametrize("a, b", [((0, 0), (0, 180)), ((90, 0), (-90, 0)),
                                  ((51.51, -0.13), (-51.51, 179.87)), ((-33.87, 151.21),
                                                                        (33.87, -28.79))])
def test_antipodes_are_half_a_circumference_apart(a, b):
    assert light.great_circle_km(*a, *b) == pytest.approx(light.HALF_CIRCUMFERENCE_KM, rel=1e-12)
    assert light.HALF_CIRCUMFERENCE_KM == pytest.approx(20_015.1, abs=0.1)


def test_identical_points_and_the_date_line():
    assert light.great_circle_km(51.51, -0.13, 51.51, -0.13) == 0.0
    assert light.city_pair("Tokyo", "Tokyo").round_trip_floor_s == 0.0
    # Across the date line, not the long way round: 0.2° of the equator is 22.2 km.
    assert light.great_circle_km(0, 179.9, 0, -179.9) == pytest.approx(22.24, abs=0.01)


@pytest.mark.parametrize("point", [(91, 0), (0, 181), (math.nan, 0), (0, math.inf)])
def test_impossible_coordinates_are_refused(point):
    with pytest.raises(ValueError):
        light.great_circle_km(*point, 0, 0)


def test_the_round_trip_floor_between_cities_and_the_typical_ping_band():
    floor = light.round_trip_floor_between("London", "New York")
    assert floor == pytest.approx(round_trip_floor(5570.5), rel=1e-3)
    assert floor == pytest.approx(0.0546, abs=0.0001)
    low, high = light.city_pair("London", "New York").typical_ping_s
    assert (low, high) == pytest.approx((1.3 * floor, 2.1 * floor))


# -- clock cycles ----------------------------------------------------------------------------------


def test_light_goes_about_10_cm_in_a_3_ghz_cycle():
    cycle = light.per_cycle(3e9)
    assert cycle.period_s == pytest.approx(1 / 3e9)
    assert cycle.vacuum_m == pytest.approx(0.099_930_8, rel=1e-6)
    assert cycle.fibre_m == pytest.approx(cycle.vacuum_m / 1.47)
    assert light.per_cycle(1).vacuum_m == 299_792_458


@pytest.mark.parametrize("hz", [0, -1e9, math.nan, math.inf, 2e15])
def test_impossible_frequencies_are_refused(hz):
    with pytest.raises(ValueError):
        light.per_cycle(hz)


def test_cycles_while_light_crosses_a_distance():
    assert light.light_times(0.0003).cycles(3e9) == pytest.approx(3.0, rel=1e-3)  # 30 cm


# -- the latency ladder ---------------------------------------------------------------------------


def test_the_ladder_climbs_in_order_from_l1_to_the_far_side():
    names = [rung.name for rung in light.LADDER]
    assert names == ["L1 cache hit", "L2 cache hit", "DRAM read", "NVMe SSD read",
                     "Same data centre", "Across a continent", "Earth's far side"]
    seconds = [rung.seconds for rung in light.LADDER]
    assert seconds == sorted(seconds) and len(set(seconds)) == len(seconds)
    assert seconds == [1e-9, 4e-9, 100e-9, 100e-6, 0.5e-3, 40e-3, 200e-3]
    assert all(rung.source and rung.what for rung in light.LADDER)


def test_each_rung_carries_light_distance_and_its_log_bar():
    for rung in light.LADDER:
        assert rung.vacuum_m == pytest.approx(rung.seconds * 299_792_458)
        assert rung.fibre_m == pytest.approx(rung.vacuum_m / 1.47)
        assert rung.decades == pytest.approx(math.log10(rung.seconds) + 10)
        assert 0 < rung.decades <= light.LADDER_DECADES
    first = light.LADDER[0]
    assert first.vacuum_m == pytest.approx(0.2998, rel=1e-4) and first.decades == pytest.approx(1.0)


def test_the_network_rungs_agree_with_the_fibre_floors():
    continent, far_side = light.LADDER[-2], light.LADDER[-1]
    assert [rung.floor_km is not None for rung in light.LADDER] == [False] * 5 + [True] * 2
    assert continent.seconds == pytest.approx(round_trip_floor(continent.floor_km), rel=0.05)
    assert continent.seconds == pytest.approx(round_trip_floor(4000), rel=0.05)
    assert far_side.seconds == pytest.approx(round_trip_floor(light.HALF_CIRCUMFERENCE_KM),
                                             rel=0.05)


# -- cities ---------------------------------------------------------------------------------------


def test_the_city_table():
    assert 40 <= len(CITIES) <= 50
    names = [light._plain(city.name) for city in CITIES]
    assert len(set(names)) == len(names)
    for city in CITIES:
        assert -90 <= city.latitude <= 90 and -180 <= city.longitude <= 180
        assert round(city.latitude, 2) == city.latitude and city.country
        assert light.find_city(city.name) is city


@pytest.mark.parametrize("typed, name", [
    ("london", "London"), ("LONDON", "London"), ("  new   york ", "New York"),
    ("sao paulo", "São Paulo"), ("Zurich", "Zürich"), ("reykjavik", "Reykjavík"),
    ("bogota", "Bogotá"), ("MONTREAL", "Montréal"), ("lond", "London"), ("tok", "Tokyo"),
    ("york", "New York"), ("kong", "Hong Kong"), ("são", "São Paulo"),
])
def test_cities_are_found_without_case_accents_or_their_whole_name(typed, name):
    assert light.find_city(typed).name == name


@pytest.mark.parametrize("typed, words", [
    ("lo", "could be London or Los Angeles"),
    ("be", "could be Berlin, Bengaluru or Beijing"),
    ("Londn", "did you mean London?"),
    ("Sidney", "did you mean Sydney?"),
    ("Atlantis", "no city called 'Atlantis' in the table of 44"),
    ("   ", "type a city name"),
])
def test_a_city_not_found_says_what_it_could_be(typed, words):
    with pytest.raises(ValueError, match=words):
        light.find_city(typed)


def test_many_matches_are_summed_up():
    with pytest.raises(ValueError, match=r"could be \w+, \w+, \w+, \w+ or \d+ more"):
        light.find_city("s")


@pytest.mark.parametrize("typed", ["London to New York", "london → new york", "Lon-New York",
                                   "london, new york", "London / NY".replace("NY", "New York")])
def test_two_cities_typed_in_one_line(typed):
    origin, destination = light.parse_city_pair(typed)
    assert (origin.name, destination.name) == ("London", "New York")


@pytest.mark.parametrize("typed", ["London", "London to Paris to Rome", "", "to"])
def test_a_pair_needs_exactly_two_cities(typed):
    with pytest.raises(ValueError, match="two cities"):
        light.parse_city_pair(typed)


def test_toronto_is_not_split_at_its_to():
    assert [c.name for c in light.parse_city_pair("Tokyo to Toronto")] == ["Tokyo", "Toronto"]


# -- typed quantities ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed, kind, value", [
    ("5570 km", "distance", 5570), ("5570", "distance", 5570), ("384400km", "distance", 384400),
    ("5,570 km", "distance", 5570), ("1_000 km", "distance", 1000), ("30 cm", "distance", 3e-4),
    ("1 m", "distance", 1e-3), ("2 metres", "distance", 2e-3), ("1 mi", "distance", 1.609344),
    ("3 miles", "distance", 3 * 1.609344), ("5 µm", "distance", 5e-9),
    ("5 μm", "distance", 5e-9), ("5 um", "distance", 5e-9), ("1e3 KM", "distance", 1000),
    (".5 km", "distance", 0.5), ("0", "distance", 0), ("100 ft", "distance", 0.03048),
    ("3 GHz", "frequency", 3e9), ("3ghz", "frequency", 3e9), ("2.4 GHz", "frequency", 2.4e9),
    ("100 MHz", "frequency", 1e8), ("50 Hz", "frequency", 50), ("1 THz", "frequency", 1e12),
    # case decides the prefix where it matters: milli against mega
    ("5 mHz", "frequency", 5e-3), ("5 MHz", "frequency", 5e6), ("100 Mhz", "frequency", 1e8),
    ("1 Mm", "distance", 1000), ("1 mm", "distance", 1e-6), ("2 megametres", "distance", 2000),
    ("5 millihertz", "frequency", 5e-3), ("2 KHZ", "frequency", 2e3),
    ("1_000_000 m", "distance", 1000),
])
def test_units_are_read(typed, kind, value):
    quantity = light.parse_quantity(typed)
    assert quantity.kind == kind and quantity.value == pytest.approx(value)


@pytest.mark.parametrize("typed, words", [
    ("", "type a distance"), ("   ", "type a distance"), ("km", "not a number with a unit"),
    ("five km", "not a number"), ("5 ms", "unknown unit 'ms'"), ("5 parsecs", "unknown unit"),
    ("-3 km", "from 0 to"), ("1e14 km", "from 0 to"), ("0 GHz", "from 1 mHz"),
    ("0.5 mHz", "from 1 mHz"),
    ("2 PHz", "unknown unit"), ("2000 THz", "to 1 PHz"), ("1,5 km", "commas only"),
    ("nan km", "not a number"), ("inf", "not a number"), ("1e999 km", "from 0 to"),
    ("5 mhz", "could be mHz .millihertz. or MHz .megahertz."), ("1 MM", "could be Mm"),
    ("1__0 km", "underscore goes only between two digits"), ("_10 km", "underscore"),
    ("10_ km", "underscore"), ("1_,000 km", "underscore"),
])
def test_bad_quantities_say_what_is_wrong(typed, words):
    with pytest.raises(ValueError, match=words):
        light.parse_quantity(typed)


def test_calculate_answers_a_distance_or_a_cycle():
    assert isinstance(light.calculate("5570 km"), light.LightTimes)
    assert isinstance(light.calculate("3 GHz"), light.ClockCycle)


# -- words for numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("seconds, words", [
    (0, "0 s"), (1e-9, "1 ns"), (1 / 3e9, "333.3 ps"), (0.0185795, "18.58 ms"),
    (0.99996e-3, "1 ms"), (100e-6, "100 µs"), (1.2822, "1.282 s"), (3.3e7, "381.9 days"),
    (999.96, "16.67 min"), (59.9996, "1 min"), (90, "1.5 min"), (7200, "2 h"),
    (1e-45 / 299_792.458, "3.336×10⁻⁵¹ s"), (1e-16, "1×10⁻¹⁶ s"),
])
def test_durations_in_words(seconds, words):
    assert light.format_duration(seconds) == words


@pytest.mark.parametrize("metres, words", [
    (0, "0 m"), (0.0999308, "9.993 cm"), (0.2998, "29.98 cm"), (5_570_000, "5,570 km"),
    (384_400_000, "384,400 km"), (29_979.2, "29.98 km"), (1.1992, "1.199 m"),
    (1e-42, "1×10⁻⁴² m"), (0.99996e-9, "1 nm"), (2.5e-11, "2.5×10⁻¹¹ m"),
])
def test_distances_in_words(metres, words):
    assert light.format_distance(metres) == words


def test_three_digits_for_a_band():
    assert light.format_duration(0.1147, digits=3) == "115 ms"
    assert light.format_duration(0.07102, digits=3) == "71 ms"


def test_frequencies_in_words():
    assert [light.format_frequency(hz) for hz in (3e9, 1e8, 999.99e6, 50, 5e-3)] == [
        "3 GHz", "100 MHz", "1 GHz", "50 Hz", "5 mHz"]
