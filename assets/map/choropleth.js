// The départements as SVG paths, coloured by the chosen figure, with the overseas insets, the
// legend and the zoom (the SVG viewBox).

import { WIDTH, HEIGHT } from './projection.js';

const SVG = 'http://www.w3.org/2000/svg';
// A sequential blue scale, light to dark (ColorBrewer "Blues", 6 classes).
const COLOURS = ['#eff3ff', '#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];

export function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

/** Draws every département (and the inset frames) into `svg`; `onPick(code)` on a click. */
export function drawMap(svg, geo, projection, onPick) {
  svg.textContent = '';
  const deps = el('g', { id: 'deps' }, svg);
  const frames = el('g', { id: 'insets' }, svg);
  for (const inset of projection.insets) {
    const [x0, y0, x1, y1] = inset.frame;
    el('rect', { class: 'inset', x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, frames);
    const label = el('text', { class: 'inset', x: x0 + 4, y: y0 + 12 }, frames);
    label.textContent = `${inset.name} (100 px ≈ ${inset.scale} km)`;
  }
  const paths = new Map();
  for (const dep of geo.departements) {
    const p = el('path', { class: 'dep nodata', d: projection.pathOf(dep), 'data-code': dep.code, 'data-region': dep.region }, deps);
    const title = el('title', {}, p);
    title.textContent = `${dep.name} (${dep.code})`;
    p.addEventListener('click', (ev) => { ev.stopPropagation(); onPick(dep.code); });
    paths.set(dep.code, { path: p, title, dep });
  }
  el('g', { id: 'places' }, svg);
  return paths;
}

function format(value, sel) {
  if (value === null || value === undefined) return 'pas de donnée';
  return sel.figure === 'rate' ? `${(value * 100).toFixed(1)} %` : value.toLocaleString('fr-FR');
}

/** Class limits: for a rate, fixed at 0–100 %; for counts, equal steps up to the largest value. */
function classes(values, sel) {
  if (sel.figure === 'rate') return [0.5, 0.7, 0.8, 0.9, 1.0];
  const max = Math.max(0, ...values.filter((v) => typeof v === 'number'));
  const step = Math.max(1, Math.ceil(max / COLOURS.length));
  return COLOURS.slice(1).map((_, i) => step * (i + 1));
}

function colourOf(value, limits) {
  let i = 0;
  while (i < limits.length && value >= limits[i]) i++;
  return COLOURS[Math.min(i, COLOURS.length - 1)];
}

/** Colours the départements with `values` (code → number or null) and writes the legend. */
export function paint(paths, values, sel, legend, figureName) {
  const limits = classes([...values.values()], sel);
  for (const [code, { path, title, dep }] of paths) {
    const v = values.has(code) ? values.get(code) : null;
    path.classList.toggle('nodata', v === null);
    if (v === null) path.removeAttribute('fill'); else path.setAttribute('fill', colourOf(v, limits));
    path.setAttribute('data-value', v === null ? '' : String(v));
    title.textContent = `${dep.name} (${dep.code}) : ${format(v, sel)}`;
  }
  legend.textContent = '';
  const head = document.createElement('div');
  head.textContent = figureName;
  legend.appendChild(head);
  const lower = [sel.figure === 'rate' ? 0 : 0, ...limits];
  COLOURS.forEach((c, i) => {
    const row = document.createElement('div');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = c;
    row.appendChild(sw);
    const hi = limits[i];
    row.appendChild(document.createTextNode(hi === undefined ? `≥ ${format(lower[i], sel)}` : `${format(lower[i], sel)} – < ${format(hi, sel)}`));
    legend.appendChild(row);
  });
}

/** Zooms onto the paths of `codes` (all of France when empty). */
export function zoomTo(svg, paths, codes) {
  if (!codes.length) { svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`); return; }
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const c of codes) {
    const p = paths.get(c);
    if (!p) continue;
    const b = p.path.getBBox();
    x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y); x1 = Math.max(x1, b.x + b.width); y1 = Math.max(y1, b.y + b.height);
  }
  if (!isFinite(x0)) return;
  const m = Math.max(x1 - x0, y1 - y0) * 0.08 + 2;
  svg.setAttribute('viewBox', `${x0 - m} ${y0 - m} ${x1 - x0 + 2 * m} ${y1 - y0 + 2 * m}`);
}

/** Marks the selected départements. */
export function select(paths, codes) {
  for (const [code, { path }] of paths) path.classList.toggle('selected', codes.includes(code));
}

export { format };
