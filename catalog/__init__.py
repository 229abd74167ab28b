"""The catalog: categories and products."""
