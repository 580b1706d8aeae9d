// Runs the five ROR scenarios with the unmodified npm client fhir-kit-client over mutual TLS and
// writes the ids it received, following every `next` link with the client's own nextPage().
//
//   node fkc_scenarios.mjs --input scenarios.json --out result.json
//
// input: {"base", "cert", "key", "ca", "scenarios": [{"name", "params"}]}
// mTLS: fhir-kit-client sends its requests with the global fetch of Node (undici); its documented
// `requestOptions` are passed to each request, so the client certificate goes in as an undici
// `dispatcher` (undici.Agent with connect: {cert, key, ca}). The library itself is not touched.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { Client } from 'fhir-kit-client';
import { Agent } from 'undici';

// (the script runs next to node_modules: see harness.node_dir)
const version = (pkg) => JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
const { values: args } = parseArgs({ options: { input: { type: 'string' }, out: { type: 'string' } } });
const input = JSON.parse(readFileSync(args.input, 'utf8'));

const dispatcher = new Agent({
  connect: { cert: readFileSync(input.cert), key: readFileSync(input.key), ca: readFileSync(input.ca) },
});
const client = new Client({ baseUrl: input.base, requestOptions: { dispatcher } });

const result = {
  versions: {
    'fhir-kit-client': version('fhir-kit-client'),
    undici: version('undici'),
    node: process.versions.node,
  },
  scenarios: {},
};
for (const sc of input.scenarios) {
  const out = { pages: 0, matches: [], includes: [], other: [], error: null };
  try {
    let bundle = await client.search({ resourceType: 'Location', searchParams: sc.params });
    while (bundle) {
      out.pages += 1;
      if (bundle.resourceType !== 'Bundle') throw new Error(`expected a Bundle, got ${bundle.resourceType}`);
      for (const e of bundle.entry ?? []) {
        const key = `${e.resource.resourceType}/${e.resource.id}`;
        if (e.search?.mode === 'match') out.matches.push(key);
        else if (e.search?.mode === 'include') out.includes.push(key);
        else out.other.push(`${key} (search.mode ${e.search?.mode})`);
      }
      if (out.pages > 200) throw new Error('more than 200 pages');
      bundle = await client.nextPage({ bundle });
    }
  } catch (e) {
    const cause = e.cause ? ` (cause: ${e.cause.code ?? ''} ${e.cause.message ?? e.cause})` : '';
    out.error = `page ${out.pages + 1}: ${e.message}${cause}${e.response ? ' ' + JSON.stringify(e.response.data).slice(0, 500) : ''}`;
  }
  result.scenarios[sc.name] = out;
}
writeFileSync(args.out, JSON.stringify(result));
await dispatcher.close();
