"""Hazards as people see them: scoped lists, one hazard with its messages, what the model
saw and its history, evidence kept by the API, confirmation (确认隐患), dismissal of false
alarms."""
