"""The chaos run (`make chaos`): a workload, faults injected meanwhile, and invariants checked afterwards."""
