"""Stores and the stock each one holds."""
