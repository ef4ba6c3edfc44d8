#!/usr/bin/env bash
# The test command: installs test dependencies, then builds and runs the whole default test suite
# (unit tests in each module, integration tests in it-tests against a real Cassandra and real processes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
exec mvn -B verify "$@"
