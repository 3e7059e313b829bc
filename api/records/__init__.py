"""Records that must hold for years: the hash-chained audit log and the archive export."""
