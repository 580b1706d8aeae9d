// The capacity map: boot, the filters, and the views (France, a région, a département).

import { BASE, HttpError, getJson, readReports, reportFigure, TYPES, STATUSES, TEMPORALITIES } from './fhir.js';
import { makeProjection } from './projection.js';
import { drawMap, paint, zoomTo, select, format } from './choropleth.js';
import { loadPlaces, drawPlaces, showDetails, searchPlaces } from './places.js';
import { Poller } from './live.js';

const REPORTS_URL = `${BASE}/MeasureReport?_count=500`;
const $ = (id) => document.getElementById(id);

const state = {
  geo: null, projection: null, paths: null, reports: null,
  scope: {},            // {} France, {region}, {departement}
  places: new Map(),    // id → place, of the current scope
  selected: null,
};

function selection() {
  const figure = $('figure').value;
  const status = figure.startsWith('status:') ? figure.slice(7) : $('status').value;
  return { figure: figure === 'rate' ? 'rate' : 'count', status, type: $('type').value, temporality: $('temporality').value };
}

function figureName() {
  const f = $('figure');
  const base = f.value === 'status' ? `Statut : ${$('status').selectedOptions[0].textContent}` : f.selectedOptions[0].textContent;
  const t = $('type').selectedOptions[0].textContent;
  return `${base} — ${t}, ${$('temporality').selectedOptions[0].textContent}`;
}

function message(kind, text) {
  const m = $('message');
  m.hidden = !text;
  m.dataset.kind = kind || '';
  m.textContent = text || '';
}

function options(select, rows, first) {
  if (first) select.appendChild(new Option(first[1], first[0]));
  for (const [code, label] of rows) select.appendChild(new Option(`${label} (${code})`, code));
}

function fillFilters(geo) {
  options($('status'), STATUSES);
  options($('type'), TYPES, ['', 'Toutes natures']);
  $('type').value = '01';
  options($('temporality'), TEMPORALITIES, ['', 'Toutes temporalités']);
  $('temporality').value = '01';
  const regions = Object.entries(geo.regions).sort((a, b) => a[1].localeCompare(b[1], 'fr'));
  for (const [code, name] of regions) $('region').appendChild(new Option(`${name} (${code})`, code));
}

/** Recolours the map and rewrites the summary from the aggregates. */
function repaint() {
  if (!state.reports) return;
  const sel = selection();
  const values = new Map();
  for (const code of state.paths.keys()) {
    const r = state.reports.departements.get(code);
    values.set(code, r ? reportFigure(r, sel) : null);
  }
  paint(state.paths, values, sel, $('legend'), figureName());
  const s = $('summary');
  s.textContent = '';
  const scopeReport = state.scope.departement ? state.reports.departements.get(state.scope.departement)
    : state.scope.region ? state.reports.regions.get(state.scope.region) : state.reports.france;
  const p = document.createElement('p');
  p.id = 'scope-figure';
  const v = scopeReport ? reportFigure(scopeReport, sel) : null;
  p.dataset.value = v === null ? '' : String(v);
  p.textContent = `${scopeReport && scopeReport.subject ? scopeReport.subject.display || '' : 'France'} : ${format(v, sel)}`;
  s.appendChild(p);
  redrawPlaces();
}

function redrawPlaces() {
  drawPlaces($('map'), state.projection, [...state.places.values()], selection(), pick);
}

async function pick(place) {
  state.selected = place.id;
  for (const c of document.querySelectorAll('circle.place')) c.classList.toggle('selected', c.dataset.id === place.id);
  const fresh = await showDetails($('details'), place);
  if (state.places.has(fresh.id)) { state.places.set(fresh.id, fresh); redrawPlaces(); }
}

/** Shows a scope: France ({}), a région or a département, with its places. */
async function show(scope) {
  state.scope = scope;
  state.places = new Map();
  const codes = scope.departement ? [scope.departement]
    : scope.region ? [...state.paths.values()].filter((p) => p.dep.region === scope.region).map((p) => p.dep.code) : [];
  zoomTo($('map'), state.paths, codes);
  select(state.paths, scope.departement ? codes : []);
  $('reset').hidden = !codes.length;
  $('region').value = scope.region || (scope.departement && state.paths.get(scope.departement) ? state.paths.get(scope.departement).dep.region : '');
  repaint();
  redrawPlaces();
  if (!codes.length) { document.body.dataset.state = 'ready'; return; }
  document.body.dataset.state = 'loading-places';
  try {
    const r = await loadPlaces(scope, (n, total) => message('info', `Lieux : ${n} / ${total ?? '?'}`));
    if (state.scope !== scope) return;
    for (const p of r.places) state.places.set(p.id, p);
    message(r.complete ? '' : 'info', r.complete ? '' : `${r.places.length} lieux affichés sur ${r.total} : choisissez un département pour les voir tous.`);
    redrawPlaces();
    performance.mark('places-drawn');
    document.body.dataset.state = 'ready';
  } catch (e) {
    message('error', `Les lieux n'ont pas pu être lus : ${e.message}`);
    document.body.dataset.state = 'error';
  }
}

async function onSearch(ev) {
  ev.preventDefault();
  const box = $('results');
  box.textContent = '';
  try {
    const found = await searchPlaces($('query').value);
    const h = document.createElement('h3');
    h.textContent = `Résultats (${found.length})`;
    box.appendChild(h);
    for (const p of found) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.id = p.id;
      b.textContent = `${p.name} — ${p.identifier} (${p.postal} ${p.city})`;
      b.addEventListener('click', () => { state.places.set(p.id, p); redrawPlaces(); pick(p); });
      box.appendChild(b);
    }
  } catch (e) {
    box.textContent = `Recherche impossible : ${e.message}`;
  }
}

/** Reads the aggregates; explains what is missing instead of drawing zeros. */
async function loadReports() {
  try {
    const r = await getJson(REPORTS_URL);
    state.reports = readReports(r.body);
    return { tag: r.etag, since: (r.body.meta && r.body.meta.lastUpdated) || null };
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    // Without aggregates, a capacity search tells whether this certificate may see capacity at all.
    let refusal = e.status === 403 ? e : null;
    if (e.status === 404) {
      refusal = await getJson(`${BASE}/Location?capacity-status=02&_summary=count`)
        .then(() => null, (p) => (p instanceof HttpError && p.status === 403 ? p : null));
    }
    const noCapacity = refusal !== null;
    if (noCapacity) message('no-capacity', `Ce certificat ne donne pas accès aux capacités : la carte ne peut pas les montrer (${refusal.diagnostics}).`);
    else if (e.status === 404) message('no-aggregates', "Ce serveur ne sert pas encore les agrégats (MeasureReport) : la carte n'est pas coloriée ; les lieux restent consultables.");
    else message('error', `Les agrégats n'ont pas pu être lus (${e.status} ${e.diagnostics}).`);
    return { failed: noCapacity ? 403 : e.status };
  }
}

async function serverNow() {
  const { body } = await getJson(`${BASE}/Location?_summary=count`);
  return (body.meta && body.meta.lastUpdated) || new Date().toISOString();
}

async function boot() {
  performance.mark('boot');
  const res = await fetch('/map/assets/departements.json', { credentials: 'same-origin' });
  state.geo = await res.json();
  fillFilters(state.geo);
  state.projection = makeProjection(state.geo.departements);
  state.paths = drawMap($('map'), state.geo, state.projection, (code) => show({ departement: code }));
  const reports = await loadReports();
  repaint();
  performance.mark('map-drawn');
  document.body.dataset.state = 'ready';
  document.body.dataset.departements = String(state.paths.size);
  for (const id of ['figure', 'type', 'temporality']) $(id).addEventListener('change', repaint);
  $('figure').addEventListener('change', () => { $('status').disabled = $('figure').value !== 'status'; repaint(); });
  $('status').addEventListener('change', repaint);
  $('region').addEventListener('change', () => show($('region').value ? { region: $('region').value } : {}));
  $('reset').addEventListener('click', () => show({}));
  $('map').addEventListener('click', () => { if (state.scope.departement) show({}); });
  $('search').addEventListener('submit', onSearch);
  if (reports.failed === 403) return;
  const poller = new Poller({
    reportsUrl: reports.failed ? null : REPORTS_URL,
    since: reports.since || await serverNow(),
    onReports: (bundle) => { state.reports = readReports(bundle); repaint(); },
    onPlaces: (places) => {
      for (const p of places) if (state.places.has(p.id)) state.places.set(p.id, p);
      redrawPlaces();
      const open = places.find((p) => p.id === state.selected);
      if (open) showDetails($('details'), open);
    },
    onStatus: (text, ok) => {
      const u = $('updated');
      u.textContent = `${ok ? 'Mis à jour' : 'Dernier essai'} à ${new Date().toLocaleTimeString('fr-FR')} (${text})`;
      u.dataset.rounds = String(Number(u.dataset.rounds || 0) + 1);
    },
  });
  const period = () => Math.min(3600, Math.max(1, Number($('period').value) || 30));
  const asked = Number(new URLSearchParams(location.search).get('poll'));
  if (asked > 0) $('period').value = String(asked);
  $('period').addEventListener('change', () => poller.setPeriod(period()));
  poller.start(period(), reports.tag);
  $('updated').textContent = `Chargé à ${new Date().toLocaleTimeString('fr-FR')}`;
}

boot().catch((e) => {
  message('error', `La carte n'a pas pu démarrer : ${e.message}`);
  document.body.dataset.state = 'error';
});
