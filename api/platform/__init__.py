"""Out to the supervision platform: the signed push queue, escalation of overdue notices."""
