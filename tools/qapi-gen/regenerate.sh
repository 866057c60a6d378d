#!/bin/sh
# Regenerate the shipped codecs. Run from the workspace root; ../shared must
# sit beside the checkout. The same jobs are checked by
# tools/qapi-gen/tests/codegen_fresh.rs, which fails when these files are stale.
set -eu
cargo run -q -p qapi-gen -- \
    --schema ../shared/schema/qmp-seed.json \
    --schema ../shared/schema/seed-supplement.json \
    --allow-missing-include qapi/common.json \
    --allow-missing-include qapi/sockets.json \
    --allow-missing-include qapi/run-state.json \
    --allow-missing-include qapi/crypto.json \
    --allow-missing-include qapi/block.json \
    --allow-missing-include qapi/char.json \
    --allow-missing-include qapi/net.json \
    --allow-missing-include qapi/rocker.json \
    --allow-missing-include qapi/tpm.json \
    --allow-missing-include qapi/ui.json \
    --allow-missing-include qapi/migration.json \
    --allow-missing-include qapi/transaction.json \
    --allow-missing-include qapi/trace.json \
    --allow-missing-include qapi/introspect.json \
    --capacities tools/qapi-gen/capacities.toml --section qmp \
    --runtime crate --title QMP \
    --output core/src/qmp/schema.rs
cargo run -q -p qapi-gen -- \
    --schema ../shared/schema/qga-seed.json \
    --capacities tools/qapi-gen/capacities.toml --section qga \
    --runtime crate --title QGA \
    --output core/src/qga/schema.rs
