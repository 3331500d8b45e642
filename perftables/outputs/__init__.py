"""outputs: what is made from collected returns — the summary workbook, data exports, published tables, feedback, comparisons, last year and history read back."""
