"""The `loupe` CLI sub-commands, one module each exposing a click ``command``."""
