"""Reading people's files: the loader lives in `models.userfiles` since the mailbox's flow reads
attached application files too (flows may not import the shell); the shell imports it from here."""

from __future__ import annotations

from models.userfiles import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_TEXT_FILE,
    check_new,
    describe,
    field_path,
    french_errors,
    load_model,
    parse_document,
    read_bytes,
    read_confined,
    read_text_file,
    validate_text,
    write_new,
    write_text,
    yaml_problem,
)

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "MAX_TEXT_FILE", "check_new", "describe", "field_path", "french_errors",
           "load_model", "parse_document", "read_bytes", "read_confined", "read_text_file", "validate_text",
           "write_new", "write_text", "yaml_problem"]
