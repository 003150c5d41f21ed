"""Pure logic: no AWS calls, no Powertools, importable and testable in isolation."""
