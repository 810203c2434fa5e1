"""grpcgw's benchmark suite: ``python -m bench`` (see docs/performance.md).

Run on demand, never by pytest. Kept import-free: the cold-start children
import ``bench.*`` modules and must not pay for anything they do not use.
"""
