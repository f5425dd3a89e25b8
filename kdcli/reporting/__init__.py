"""Reading results: summaries, comparisons, tables, plots, reports and checks."""
