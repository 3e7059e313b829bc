"""The home dashboard: what needs whom, in each role's scope."""
