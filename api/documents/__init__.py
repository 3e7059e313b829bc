"""Shared building blocks of the documents people file: A4 PDFs with Chinese text, charts."""
