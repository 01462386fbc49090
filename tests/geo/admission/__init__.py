"""geo.admission."""
