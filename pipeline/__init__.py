"""The orchestration: the per-item runner, the pipeline stages, the one decision, case matching."""
