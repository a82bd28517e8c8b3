"""Settings, the database and the error hierarchy: infrastructure every package may use."""
