"""Merchandising: query rules that pin, hide and boost products for matching searches."""
