"""The paper path (DESIGN §12): answer sheets printed from a component's definition, each
page carrying corner marks and a QR code (``layout``, ``codes``, ``printing``); the scans
that are later read back against the same layout."""
