"""Runnable examples for grpcgw."""
