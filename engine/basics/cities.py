"""The bundled city table for the speed-of-light screen: 44 large cities on every inhabited
continent, chosen so that pairs span a few hundred km (London–Paris) to nearly half the globe
(Madrid–Auckland).

Coordinates are each city's centre in decimal degrees (north and east positive), rounded to two
decimals — about 1 km, far finer than anything the round-trip floors need. They were written
for this project from the cities' well-known coordinates, not copied from a database.
"""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    name: str
    country: str
    latitude: float  # degrees, north positive
    longitude: float  # degrees, east positive


CITIES: tuple[City, ...] = (
    # Europe
    City("London", "United Kingdom", 51.51, -0.13),
    City("Paris", "France", 48.86, 2.35),
    City("Amsterdam", "Netherlands", 52.37, 4.90),
    City("Frankfurt", "Germany", 50.11, 8.68),
    City("Berlin", "Germany", 52.52, 13.40),
    City("Zürich", "Switzerland", 47.37, 8.54),
    City("Madrid", "Spain", 40.42, -3.70),
    City("Rome", "Italy", 41.90, 12.50),
    City("Stockholm", "Sweden", 59.33, 18.07),
    City("Reykjavík", "Iceland", 64.15, -21.94),
    City("Moscow", "Russia", 55.76, 37.62),
    City("Istanbul", "Türkiye", 41.01, 28.98),
    # Africa and the Middle East
    City("Cairo", "Egypt", 30.04, 31.24),
    City("Lagos", "Nigeria", 6.52, 3.38),
    City("Nairobi", "Kenya", -1.29, 36.82),
    City("Johannesburg", "South Africa", -26.20, 28.05),
    City("Cape Town", "South Africa", -33.92, 18.42),
    City("Dubai", "United Arab Emirates", 25.20, 55.27),
    # Asia
    City("Mumbai", "India", 19.08, 72.88),
    City("Delhi", "India", 28.61, 77.21),
    City("Bengaluru", "India", 12.97, 77.59),
    City("Singapore", "Singapore", 1.35, 103.82),
    City("Hong Kong", "China", 22.32, 114.17),
    City("Shanghai", "China", 31.23, 121.47),
    City("Beijing", "China", 39.90, 116.41),
    City("Seoul", "South Korea", 37.57, 126.98),
    City("Tokyo", "Japan", 35.69, 139.69),
    # Oceania
    City("Sydney", "Australia", -33.87, 151.21),
    City("Melbourne", "Australia", -37.81, 144.96),
    City("Perth", "Australia", -31.95, 115.86),
    City("Auckland", "New Zealand", -36.85, 174.76),
    # North America
    City("Honolulu", "United States", 21.31, -157.86),
    City("San Francisco", "United States", 37.77, -122.42),
    City("Los Angeles", "United States", 34.05, -118.24),
    City("Seattle", "United States", 47.61, -122.33),
    City("Chicago", "United States", 41.88, -87.63),
    City("New York", "United States", 40.71, -74.01),
    City("Toronto", "Canada", 43.65, -79.38),
    City("Montréal", "Canada", 45.50, -73.57),
    City("Mexico City", "Mexico", 19.43, -99.13),
    # South America
    City("Bogotá", "Colombia", 4.71, -74.07),
    City("Lima", "Peru", -12.05, -77.04),
    City("São Paulo", "Brazil", -23.55, -46.63),
    City("Buenos Aires", "Argentina", -34.60, -58.38),
)
