"""SiteGuard: construction-site hazard detection and rectification."""

__version__ = "0.1.0"
