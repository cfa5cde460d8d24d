"""Test support: moto extensions, event loader, an independent policy evaluator."""
