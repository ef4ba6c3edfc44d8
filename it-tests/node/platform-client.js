'use strict';
// A small client library for iiot.platform.v1: loads the .proto files at run time (no code generation), attaches
// the API key to every call, and decodes the rich errors (google.rpc.Status in the grpc-status-details-bin trailer)
// that grpc-js leaves undecoded.
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
// protobufjs comes with proto-loader; resolve it from there rather than declaring a second copy.
const protobuf = require(require.resolve('protobufjs', { paths: [require.resolve('@grpc/proto-loader')] }));

const PLATFORM_FILES = ['tenant.proto', 'api_key.proto', 'template.proto', 'onboarding.proto', 'errors.proto',
  'device.proto', 'identifier.proto', 'telemetry.proto', 'command.proto']
  .map((f) => path.join('iiot', 'platform', 'v1', f));

/**
 * @param {object} opts
 * @param {string} opts.address host:port of platform-api
 * @param {string} opts.apiKey sent as metadata x-api-key
 * @param {string[]} opts.includeDirs the proto root (proto/src/main/protobuf) and a directory with google/api, google/rpc
 */
function connect({ address, apiKey, includeDirs }) {
  const definition = protoLoader.loadSync(PLATFORM_FILES, {
    keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs,
  });
  const v1 = grpc.loadPackageDefinition(definition).iiot.platform.v1;
  const credentials = grpc.credentials.createInsecure();
  // grpc-js refuses call credentials on a plaintext channel, so the key goes into each call's metadata.
  const metadata = () => {
    const md = new grpc.Metadata();
    if (apiKey) md.set('x-api-key', apiKey);
    return md;
  };
  const clients = {
    tenants: new v1.TenantService(address, credentials),
    templates: new v1.OnboardingTemplateService(address, credentials),
    apiKeys: new v1.ApiKeyService(address, credentials),
    onboarding: new v1.OnboardingService(address, credentials),
    devices: new v1.DeviceService(address, credentials),
    identifiers: new v1.IdentifierService(address, credentials),
    telemetry: new v1.TelemetryService(address, credentials),
    commands: new v1.CommandService(address, credentials),
  };
  const richErrors = loadRichErrorTypes(includeDirs);
  /** Promise-returning unary call with a deadline (10 s unless given). */
  function call(client, method, request, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      clients[client][method](request, metadata(), { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err) reject(Object.assign(err, { details: richErrors.decode(err) }));
        else resolve(response);
      });
    });
  }
  /**
   * A server-streaming call (e.g. telemetry.streamTelemetry): returns grpc-js's stream ('data', 'error', 'end';
   * cancel() to leave). grpc-js reads only as fast as 'data' handlers return, so a slow consumer holds back the
   * server through HTTP/2 flow control instead of buffering here.
   */
  function stream(client, method, request) {
    const s = clients[client][method](request, metadata());
    s.on('error', (err) => Object.assign(err, { details: richErrors.decode(err) }));
    return s;
  }
  function close() {
    Object.values(clients).forEach((c) => c.close());
  }
  return { call, stream, close };
}

function loadRichErrorTypes(includeDirs) {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target.startsWith('google/protobuf/')) return target; // bundled with protobufjs
    for (const dir of includeDirs) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
  const Status = root.lookupType('google.rpc.Status');
  return {
    /** The google.rpc.Status of a failed call with each detail decoded by its type URL, or null. */
    decode(err) {
      const raw = err.metadata && err.metadata.get('grpc-status-details-bin')[0];
      if (!raw) return null;
      const status = Status.decode(raw);
      return {
        code: status.code,
        message: status.message,
        details: status.details.map((any) => {
          const typeName = any.type_url.substring(any.type_url.lastIndexOf('/') + 1);
          const type = root.lookupType(typeName);
          return { type: typeName, ...type.toObject(type.decode(any.value), { defaults: true }) };
        }),
      };
    },
  };
}

module.exports = { connect, grpc };
