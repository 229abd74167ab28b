"""The product search index: documents, lossless sync, search and suggest."""
