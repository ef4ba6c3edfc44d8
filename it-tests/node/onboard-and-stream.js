'use strict';
// An integrator's first day in Node.js: onboards a batch of machines from the "mine belt conveyor" template, follows
// the tenant's live telemetry stream, and reads the history of the machine that sent. Prints JSON lines on stdout:
//   {"event":"onboarded", ...}  the per-machine results (with the credentials shown once)
//   {"event":"streaming"}       the live stream is open: a machine may send now
//   {"event":"done", ...}       the first live point and the device's history
// Environment: PLATFORM_ADDRESS, PLATFORM_API_KEY, TENANT, PROTO_INCLUDE_DIRS (path-separated).
const path = require('path');
const crypto = require('crypto');
const { connect } = require('./platform-client');

function emit(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function timestamp(ms) {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

async function main() {
  const includeDirs = process.env.PROTO_INCLUDE_DIRS.split(path.delimiter);
  const tenant = process.env.TENANT;
  const api = connect({ address: process.env.PLATFORM_ADDRESS, apiKey: process.env.PLATFORM_API_KEY, includeDirs });
  const machines = [1, 2, 3, 4, 5].map((i) => ({
    machineId: `node-belt-${i}`,
    displayName: `Node belt ${i}`,
    identifierValues: { SERIAL_NO: `NB-${i}`, MODEL: 'DSJ100', MANUFACTURER: 'Node Mining Works', MA_CERT_NO: `MA-N${i}` },
  }));
  const onboarded = await api.call('onboarding', 'onboardDevices', {
    parent: `tenants/${tenant}`, template: 'templates/mine-belt-conveyor', machines, requestId: crypto.randomUUID(),
  }, 120000);
  emit({
    event: 'onboarded',
    onboardedCount: onboarded.onboardedCount,
    results: onboarded.results.map((r) => ({
      machineId: r.machineId, code: r.status.code, identifier: r.identifier, device: r.device,
      authId: r.credentials.authId, secret: r.credentials.secret, mqttUri: r.mqttUri,
    })),
  });

  const live = api.stream('telemetry', 'streamTelemetry', { parent: `tenants/${tenant}` });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no live point within 60 s')), 60000);
    live.on('data', (event) => {
      if (event.point) {
        clearTimeout(timer);
        resolve(event.point);
      }
    });
    live.on('error', (err) => {
      if (err.code !== 1) { // 1 = CANCELLED, our own cancel()
        clearTimeout(timer);
        reject(err);
      }
    });
    emit({ event: 'streaming' });
  });
  live.cancel();

  const sent = Number(first.time.seconds) * 1000 + Math.floor(first.time.nanos / 1e6);
  const history = await api.call('telemetry', 'listTelemetry', {
    device: first.device, startTime: timestamp(sent - 3600000), endTime: timestamp(sent + 3600000), pageSize: 100,
  });
  emit({
    event: 'done',
    point: { device: first.device, metric: first.metric, number: first.number },
    history: history.points.map((p) => ({ metric: p.metric, number: p.number, time: p.time })),
  });
  api.close();
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`${err.stack || err}\n${JSON.stringify(err.details || null)}\n`);
  process.exit(1);
});
