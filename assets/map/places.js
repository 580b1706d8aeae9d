// The places (Location) of a département or région as points, their details (figures and offers:
// the S2 answer) and the search by identifier or name.

import { BASE, getJson, searchAll, readPlace, placeCount } from './fhir.js';
import { el } from './choropleth.js';

const ELEMENTS = '_elements=identifier,name,position,address,extension';
/** Pages of 200 places read for one view (a région beyond that is shown in part, and says so). */
export const MAX_PAGES = 15;

/** The postal-code prefixes of a département (Corsica shares 20xxx: 2A is 200–201, 2B 202–206). */
export function postalPrefixes(code) {
  if (code === '2A') return ['200', '201'];
  if (code === '2B') return ['202', '206'];
  return [code];
}

/** The search URL of the places of a scope: {departement} or {region}. */
export function scopeUrl(scope) {
  if (scope.departement) return `${BASE}/Location?address-postalcode=${postalPrefixes(scope.departement).join(',')}&_count=200&${ELEMENTS}`;
  return `${BASE}/Location?_tag=${encodeURIComponent(scope.region)}&_count=200&${ELEMENTS}`;
}

/** Loads the places of `scope`; `progress(n, total)` after each page. */
export async function loadPlaces(scope, progress) {
  const r = await searchAll(scopeUrl(scope), MAX_PAGES, (list, total) => progress && progress(list.length, total));
  return { places: r.resources.filter((x) => x.resourceType === 'Location').map(readPlace), total: r.total, complete: r.complete };
}

/** The availability class of a place for the selection: free, full or none (no visible figure). */
export function availability(place, sel) {
  const relevant = place.figures.filter((f) => (!sel.type || f.type.code === sel.type) && (!sel.temporality || f.temporality.code === sel.temporality));
  if (!relevant.length) return 'none';
  return placeCount(place, sel, '02') > 0 ? 'free' : 'full';
}

/** Draws `places` into the SVG's places layer, sized for the current zoom. */
export function drawPlaces(svg, projection, places, sel, onPick) {
  const layer = svg.querySelector('#places');
  layer.textContent = '';
  const vb = svg.viewBox.baseVal;
  const r = Math.max(vb.width, vb.height) / 220;
  for (const p of places) {
    if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
    const [x, y] = projection.project(p.lon, p.lat);
    const c = el('circle', { class: `place ${availability(p, sel)}`, cx: x.toFixed(2), cy: y.toFixed(2), r: r.toFixed(2), 'data-id': p.id }, layer);
    const t = el('title', {}, c);
    t.textContent = `${p.name} (${p.identifier}) — disponibles : ${placeCount(p, sel, '02')}`;
    c.addEventListener('click', (ev) => { ev.stopPropagation(); onPick(p); });
  }
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

function figuresTable(place) {
  const table = document.createElement('table');
  table.className = 'figures';
  const head = table.insertRow();
  for (const h of ['Nature', 'Statut', 'Temporalité', 'Nombre', 'Mis à jour']) cell(head, h);
  for (const f of place.figures) {
    const row = table.insertRow();
    row.dataset.type = f.type.code || '';
    row.dataset.status = f.status.code || '';
    row.dataset.temporality = f.temporality.code || '';
    cell(row, f.type.display || f.type.code || '');
    cell(row, f.status.display || f.status.code || '');
    cell(row, f.temporality.display || f.temporality.code || '');
    cell(row, String(f.nb), 'n');
    cell(row, f.updated ? new Date(f.updated).toLocaleString('fr-FR') : '');
  }
  return table;
}

/** Shows a place's details: its figures and its offers, read as scenario S2 does. */
export async function showDetails(box, place) {
  box.textContent = '';
  box.dataset.id = place.id;
  box.dataset.state = 'loading';
  const h = document.createElement('h2');
  h.textContent = place.name;
  const sub = document.createElement('p');
  sub.textContent = `${place.identifier} — ${place.postal} ${place.city}`;
  box.append(h, sub);
  try {
    const ident = place.identifier || '';
    const url = ident
      ? `${BASE}/Location?identifier=${encodeURIComponent(ident)}&_revinclude=HealthcareService:location`
      : `${BASE}/Location?_id=${encodeURIComponent(place.id)}&_revinclude=HealthcareService:location`;
    const { body } = await getJson(url);
    const entries = (body.entry || []).map((e) => e.resource).filter(Boolean);
    const loc = entries.find((r) => r.resourceType === 'Location' && String(r.id) === place.id);
    const fresh = loc ? readPlace(loc) : place;
    box.appendChild(fresh.figures.length ? figuresTable(fresh) : Object.assign(document.createElement('p'), { textContent: 'Aucun chiffre de capacité visible avec ce certificat.' }));
    const offers = entries.filter((r) => r.resourceType === 'HealthcareService'
      && (r.location || []).some((l) => l.reference === `Location/${place.id}`));
    const oh = document.createElement('h3');
    oh.textContent = `Offres (${offers.length})`;
    const list = document.createElement('ul');
    list.className = 'offers';
    for (const o of offers) {
      const li = document.createElement('li');
      li.dataset.id = String(o.id);
      li.textContent = `${o.name || '(sans nom)'} — ${((o.identifier || [])[0] || {}).value || o.id}`;
      list.appendChild(li);
    }
    box.append(oh, list);
    box.dataset.state = 'ready';
    return fresh;
  } catch (e) {
    const p = document.createElement('p');
    p.textContent = `Impossible de lire ce lieu : ${e.message}`;
    box.appendChild(p);
    box.dataset.state = 'error';
    return place;
  }
}

/** Places matching a search box entry: an identifier (holds a digit) or a name (starts with). */
export async function searchPlaces(text) {
  const q = text.trim();
  if (!q) return [];
  const param = /\d/.test(q) ? 'identifier' : 'name';
  const { body } = await getJson(`${BASE}/Location?${param}=${encodeURIComponent(q)}&_count=20&${ELEMENTS}`);
  return (body.entry || []).map((e) => e.resource).filter((r) => r && r.resourceType === 'Location').map(readPlace);
}
