"""Question 1, the quick-fire round, made tangible: integers and floats in binary (bits.py,
floats.py), the speed of light (light_table.py: distances, cities, the latency ladder) and merge
sort as a stream of events with its comparisons counted (mergesort.py)."""
