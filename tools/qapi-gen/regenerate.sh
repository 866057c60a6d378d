#!/bin/sh
# Regenerate the shipped codecs (core/src/qmp/schema.rs, core/src/qga/schema.rs).
# Run from the workspace root; ../shared must sit beside the checkout. The
# jobs are qapi_gen::shipped_jobs; each output's header spells its job out as
# a full command line. tools/qapi-gen/tests/codegen_fresh.rs fails when the
# committed files are stale.
set -eu
exec cargo run -q -p qapi-gen -- --shipped "$@"
