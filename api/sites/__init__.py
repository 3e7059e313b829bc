"""Projects (a site under watch, its insurer, contractor and jurisdiction) and their cameras
and zones."""
