'use strict';
// Lists the shipped onboarding templates page by page, reads one, and shows how platform-api reports errors.
// Prints one JSON document on stdout. Environment: PLATFORM_ADDRESS, PLATFORM_API_KEY, PROTO_INCLUDE_DIRS
// (path-separated: the proto root and a directory holding google/api and google/rpc).
const path = require('path');
const { connect } = require('./platform-client');

async function main() {
  const includeDirs = process.env.PROTO_INCLUDE_DIRS.split(path.delimiter);
  const api = connect({ address: process.env.PLATFORM_ADDRESS, apiKey: process.env.PLATFORM_API_KEY, includeDirs });
  const anonymous = connect({ address: process.env.PLATFORM_ADDRESS, apiKey: '', includeDirs });
  const out = { templates: [], pages: 0 };
  try {
    let pageToken = '';
    do {
      const page = await api.call('templates', 'listOnboardingTemplates', { pageSize: 5, pageToken });
      out.pages += 1;
      page.onboardingTemplates.forEach((t) => out.templates.push({ name: t.name, industryCode: t.industryCode }));
      pageToken = page.nextPageToken;
    } while (pageToken);

    const belt = await api.call('templates', 'getOnboardingTemplate', { name: 'templates/mine-belt-conveyor' });
    out.belt = {
      displayName: belt.displayName,
      credentialType: belt.credentialPolicy.type,
      metrics: belt.deviceProfile.metrics.map((m) => ({ name: m.name, unit: m.unit, min: m.min, max: m.max })),
    };

    try {
      await api.call('templates', 'listOnboardingTemplates', { filter: 'colour = "red"' });
      out.badFilter = 'accepted';
    } catch (err) {
      out.badFilter = { grpcCode: err.code, status: err.details };
    }
    try {
      await anonymous.call('templates', 'listOnboardingTemplates', {});
      out.noKey = 'accepted';
    } catch (err) {
      out.noKey = { grpcCode: err.code, status: err.details };
    }
  } finally {
    api.close();
    anonymous.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`list-templates failed: ${err.stack || err}\n`);
  process.exit(1);
});
