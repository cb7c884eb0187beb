"""Files users bring and take away: the learner import and the CSV/XLSX writers."""
