"""Benchmarks and drills: each module runs as a script (`python bench/<name>.py`)."""
