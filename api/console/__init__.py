"""The web console: server-rendered pages over the same data, roles and scopes as the API."""
