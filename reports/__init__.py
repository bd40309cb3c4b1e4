"""blindmark reports: PDFs and exports, from data that marking hands it."""
