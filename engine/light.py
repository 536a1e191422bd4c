"""The speed of light, and what it says about a network round trip (questions 1 and 4).

Light in a vacuum covers 299,792.458 km/s; in optical fibre, glass with a refractive index of
about 1.47, roughly two thirds of that. A round trip to a server D km away can therefore never
take less than 2·D / (c / 1.47): whatever a measured round trip takes beyond that floor is
queues, routers, detours and software.
"""

from __future__ import annotations

import math

SPEED_OF_LIGHT_KM_S = 299_792.458  # exact, by the definition of the metre
FIBRE_REFRACTIVE_INDEX = 1.47  # typical single-mode fibre core
SPEED_IN_FIBRE_KM_S = SPEED_OF_LIGHT_KM_S / FIBRE_REFRACTIVE_INDEX  # ≈ 204,000 km/s


def round_trip_floor(distance_km: float) -> float:
    """The shortest possible round trip, in seconds, to a server `distance_km` away over fibre."""
    if not (math.isfinite(distance_km) and distance_km >= 0):  # NaN fails both comparisons
        raise ValueError(f"a distance is a finite number of km, 0 or more, not {distance_km}")
    return 2.0 * distance_km / SPEED_IN_FIBRE_KM_S


def farthest_km(round_trip_seconds: float) -> float:
    """How far away, at most, a server can be that answered in `round_trip_seconds`: light in
    fibre had to get there and back in that time."""
    if not (math.isfinite(round_trip_seconds) and round_trip_seconds >= 0):
        raise ValueError("a round trip is a finite number of seconds, 0 or more, not "
                         f"{round_trip_seconds}")
    return round_trip_seconds * SPEED_IN_FIBRE_KM_S / 2.0
