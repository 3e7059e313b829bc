"""Hazards as people see them: scoped lists, one hazard with its messages, evidence kept by
the API, dismissal of false alarms."""
