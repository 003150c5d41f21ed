"""Compliance plumbing: the cdk-nag packs and ledger, the Control Tower plugin, checkov skips."""
