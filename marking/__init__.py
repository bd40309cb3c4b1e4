"""blindmark: the domain core (models, intake, queue, reconciliation, publication, CLI)."""
