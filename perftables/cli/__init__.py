"""The command line: thin click commands (main), Chinese click (zh), the bundled demo (demo)."""
