#!/usr/bin/env bash
# The run command: builds the modules (unless --no-build), then runs embedded Cassandra and the three services
# until Ctrl-C / SIGTERM. Set CASSANDRA_CONTACT_POINTS=host:port to use an external cluster instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-build" ]; then
  mvn -q -B -DskipTests package
fi
exec java -Xmx256M -cp "service-base/target/service-base.jar:service-base/target/lib/*" \
  io.iiot.base.launch.PlatformLauncher
