"""blindmark web: a thin Flask adapter over marking/ and reports/."""
