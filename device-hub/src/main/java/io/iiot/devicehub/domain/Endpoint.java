package io.iiot.devicehub.domain;

/** Hono's two ingest endpoints. Events must be delivered at least once; telemetry may be best effort. */
public enum Endpoint {
  TELEMETRY,
  EVENT
}
