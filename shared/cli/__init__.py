"""`backbone`: the operator CLI (publish, case show, tail, dlq, rebuild, topics, health); docs/operations.md."""
