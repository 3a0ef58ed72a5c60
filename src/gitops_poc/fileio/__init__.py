"""The one way the tool reads and writes files: regular files only, bounded per kind, writes atomic."""

from gitops_poc.fileio.reading import (
    CA_FILE,
    CRD_CACHE,
    CREDENTIALS_FILE,
    ENV_FILE,
    JSON_STATE,
    SECRETS_FILE,
    TEMPLATE,
    TOKEN_FILE,
    YAML_FILE,
    FileKind,
    FileMissing,
    FileRefused,
    NotText,
    decode,
    read_bytes,
    read_text,
)
from gitops_poc.fileio.writing import WriteFailed, WriteRefused, write_atomic

__all__ = [
    "CA_FILE",
    "CREDENTIALS_FILE",
    "CRD_CACHE",
    "ENV_FILE",
    "JSON_STATE",
    "SECRETS_FILE",
    "TEMPLATE",
    "TOKEN_FILE",
    "YAML_FILE",
    "FileKind",
    "FileMissing",
    "FileRefused",
    "NotText",
    "WriteFailed",
    "WriteRefused",
    "decode",
    "read_bytes",
    "read_text",
    "write_atomic",
]
