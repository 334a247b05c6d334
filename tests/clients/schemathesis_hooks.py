"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in tests/it/openapi.rs: a plugin upload is an
`application/wasm` body, sent as the raw bytes generated for it."""

import schemathesis

schemathesis.serializer.alias("application/wasm", "application/octet-stream")
