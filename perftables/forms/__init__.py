"""forms: the form description language — loading and compiling a description (form), checking it (check), and the layout that the writer and the reader share (layout)."""
