"""``tux-db simulate``: a deterministic bot workload through the services, with a report and invariants."""
