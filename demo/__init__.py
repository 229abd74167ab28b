"""Demo data: a generated grocery catalog with stores and stock, for local use and benchmarks."""
