"""The notifier's pure core: who is told of what, case read model, rendering, delivery states."""
