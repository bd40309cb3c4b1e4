"""blindmark anonymizer: session keys, sealing identities, and (in unseal) the only way back."""
