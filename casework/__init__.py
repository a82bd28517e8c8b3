"""The domain core: models, references, calendar, policy, case lifecycle, audit."""
