"""The round's web console (perftables serve): web.app builds it, web.serve runs it with waitress."""
