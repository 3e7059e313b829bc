"""Who may see and do what: API keys with roles and scopes, console sessions."""
