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

const PLATFORM_FILES = ['tenant.proto', 'api_key.proto', 'template.proto', 'onboarding.proto', 'errors.proto']
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
  };
  const richErrors = loadRichErrorTypes(includeDirs);
  /** Promise-returning unary call with a 10 s deadline. */
  function call(client, method, request) {
    return new Promise((resolve, reject) => {
      clients[client][method](request, metadata(), { deadline: Date.now() + 10000 }, (err, response) => {
        if (err) reject(Object.assign(err, { details: richErrors.decode(err) }));
        else resolve(response);
      });
    });
  }
  function close() {
    Object.values(clients).forEach((c) => c.close());
  }
  return { call, close };
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
