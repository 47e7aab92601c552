"""Adapters: the ports implemented over real libraries, and their in-memory twins."""
