"""Problem folders (data only): problem.json, cases.json, spec.md and the stub <id>.py."""
