"""Benchmarks of msme_stats, each side by side with a peer (R survey, pandas, DuckDB)."""
