// Talking to the FHIR API of this server (same origin, same client certificate) and reading its
// answers: MeasureReport aggregates and Location capacity figures. Nothing here touches the page.

export const BASE = '/fhir';
const NOS = 'https://mos.esante.gouv.fr/NOS/';
export const SYSTEMS = {
  type: NOS + 'TRE_R329-NatureCapacite/FHIR/TRE-R329-NatureCapacite',
  status: NOS + 'TRE_R330-TypeStatutCapacite/FHIR/TRE-R330-TypeStatutCapacite',
  temporality: NOS + 'TRE_R331-TemporaliteCapacite/FHIR/TRE-R331-TemporaliteCapacite',
  region: NOS + 'TRE_R30-RegionOM/FHIR/TRE-R30-RegionOM',
  departement: 'https://www.insee.fr/fr/metadonnees/cog/departement',
  country: 'urn:iso:std:iso:3166',
};
export const CAPACITY_EXT = 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-supported-capacity';

// The code tables (TRE_R329, TRE_R330, TRE_R331), for the filters and the place details.
export const TYPES = [['01', 'Lit'], ['02', 'Place']];
export const STATUSES = [
  ['01', 'Installé'], ['02', 'Disponible'], ['03', 'Occupé'], ['04', 'Réservé'], ['05', 'Fermé'],
  ['06', 'Supplémentaire'], ['07', 'Opérationnel'], ['08', 'Installé constaté'], ['09', 'Autorisé'],
];
export const TEMPORALITIES = [
  ['01', 'Courant'], ['02', 'Prévisionnel 1 heure'], ['03', 'Prévisionnel 24 heures'],
  ['04', 'Prévisionnel 48 heures'], ['05', 'Prévisionnel 7 jours'],
];

/** A refused or failed request: its status and what the server's OperationOutcome says. */
export class HttpError extends Error {
  constructor(status, diagnostics, url) {
    super(`${status} ${diagnostics}`);
    this.status = status;
    this.diagnostics = diagnostics;
    this.url = url;
  }
}

function outcomeText(body) {
  const issues = (body && body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) ? body.issue : [];
  return issues.map((i) => i.diagnostics || (i.details && i.details.text) || i.code).filter(Boolean).join('; ');
}

/** GET a FHIR URL (relative to the origin); with `etag`, conditional. {status, etag, body}. */
export async function getJson(url, etag) {
  const headers = { Accept: 'application/fhir+json' };
  if (etag) headers['If-None-Match'] = etag;
  let res;
  try {
    res = await fetch(url, { headers, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    throw new HttpError(0, 'le serveur ne répond pas (' + e.message + ')', url);
  }
  if (res.status === 304) return { status: 304, etag };
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) throw new HttpError(res.status, outcomeText(body) || res.statusText, url);
  return { status: res.status, etag: res.headers.get('ETag'), body };
}

/** The URL of a Bundle's `next` link, made relative to this origin (or null). */
export function nextLink(bundle) {
  const link = (bundle.link || []).find((l) => l.relation === 'next');
  if (!link) return null;
  const u = new URL(link.url, location.href);
  return u.pathname + u.search;
}

/** Every entry resource of a search, following `next` up to `maxPages` pages. */
export async function searchAll(url, maxPages, onPage) {
  const out = [];
  let total = null;
  let pages = 0;
  for (let next = url; next && pages < maxPages; pages++) {
    const { body } = await getJson(next);
    if (total === null && typeof body.total === 'number') total = body.total;
    for (const e of body.entry || []) if (e.resource) out.push(e.resource);
    if (onPage) onPage(out, total);
    next = nextLink(body);
    if (!next) return { resources: out, total, complete: true };
  }
  return { resources: out, total, complete: pages < maxPages };
}

const code = (cc) => (cc && cc.coding && cc.coding[0]) || {};

/** The MeasureReports of a searchset, by scope: {france, regions: Map, departements: Map}. */
export function readReports(bundle) {
  const out = { france: null, regions: new Map(), departements: new Map(), lastUpdated: null };
  for (const e of bundle.entry || []) {
    const r = e.resource;
    if (!r || r.resourceType !== 'MeasureReport') continue;
    const id = (r.subject && r.subject.identifier) || {};
    if (id.system === SYSTEMS.country) out.france = r;
    else if (id.system === SYSTEMS.region) out.regions.set(String(id.value), r);
    else if (id.system === SYSTEMS.departement) out.departements.set(String(id.value), r);
    const lu = r.meta && r.meta.lastUpdated;
    if (lu && (!out.lastUpdated || lu > out.lastUpdated)) out.lastUpdated = lu;
  }
  return out;
}

function populationCount(populations, status) {
  let n = 0;
  for (const p of populations || []) if (code(p.code).code === status) n += Number(p.count) || 0;
  return n;
}

/** The count of `status` in a MeasureReport for a capacity type ('' = all) and temporality ('' = all). */
export function reportCount(report, type, status, temporality) {
  if (!report) return null;
  let n = 0;
  for (const g of report.group || []) {
    if (type && code(g.code).code !== type) continue;
    if (!temporality) { n += populationCount(g.population, status); continue; }
    for (const s of (g.stratifier && g.stratifier[0] && g.stratifier[0].stratum) || []) {
      if (code(s.value).code === temporality) n += populationCount(s.population, status);
    }
  }
  return n;
}

/** The chosen figure of a report: a count, or occupied / installed (null when nothing is installed). */
export function reportFigure(report, sel) {
  if (sel.figure === 'rate') {
    const installed = reportCount(report, sel.type, '01', sel.temporality);
    const occupied = reportCount(report, sel.type, '03', sel.temporality);
    return installed ? occupied / installed : null;
  }
  return reportCount(report, sel.type, sel.status, sel.temporality);
}

function sub(ext, url) {
  return (ext.extension || []).find((x) => x.url === url) || {};
}

/** The capacity figures of a Location the consumer may see. */
export function placeFigures(loc) {
  return (loc.extension || []).filter((x) => x.url === CAPACITY_EXT).map((x) => ({
    type: code(sub(x, 'capacityType').valueCodeableConcept),
    status: code(sub(x, 'capacityStatus').valueCodeableConcept),
    temporality: code(sub(x, 'temporalityCapacity').valueCodeableConcept),
    nb: Number(sub(x, 'nbCapacity').valueInteger) || 0,
    updated: sub(x, 'capacityUpdateDate').valueDateTime || '',
  }));
}

/** What the map needs of a Location. */
export function readPlace(loc) {
  const pos = loc.position || {};
  const ident = (loc.identifier || [])[0] || {};
  return {
    id: String(loc.id),
    name: loc.name || '(sans nom)',
    identifier: ident.value || '',
    lat: Number(pos.latitude),
    lon: Number(pos.longitude),
    postal: (loc.address && loc.address.postalCode) || '',
    city: (loc.address && loc.address.city) || '',
    lastUpdated: (loc.meta && loc.meta.lastUpdated) || '',
    figures: placeFigures(loc),
  };
}

/** A place's total of `status` for the selection's type and temporality. */
export function placeCount(place, sel, status) {
  let n = 0;
  for (const f of place.figures) {
    if (sel.type && f.type.code !== sel.type) continue;
    if (sel.temporality && f.temporality.code !== sel.temporality) continue;
    if (f.status.code === status) n += f.nb;
  }
  return n;
}
