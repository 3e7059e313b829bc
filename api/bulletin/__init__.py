"""The regulator's view: the alerts feed and the monthly bulletin (JSON, page, PDF)."""
