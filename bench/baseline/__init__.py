"""A privacy-free Flask + SQLAlchemy feedback app: the ceiling the benchmarks compare against."""
