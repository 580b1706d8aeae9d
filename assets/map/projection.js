// Our own projection: metropolitan France in a Lambert conformal conic on the sphere (the
// parameters of Lambert-93: standard parallels 44° and 49°, origin 46.5° N, 3° E), fitted to the
// right part of the drawing; each overseas département in its own inset box on the left, in a
// local equirectangular projection (their extent is small: the distortion is negligible), each at
// its own scale (stated in the inset's label).

const RAD = Math.PI / 180;
const PHI1 = 44 * RAD, PHI2 = 49 * RAD, PHI0 = 46.5 * RAD, LAMBDA0 = 3 * RAD;
const N = Math.log(Math.cos(PHI1) / Math.cos(PHI2))
  / Math.log(Math.tan(Math.PI / 4 + PHI2 / 2) / Math.tan(Math.PI / 4 + PHI1 / 2));
const F = Math.cos(PHI1) * Math.pow(Math.tan(Math.PI / 4 + PHI1 / 2), N) / N;
const RHO0 = F / Math.pow(Math.tan(Math.PI / 4 + PHI0 / 2), N);

/** Lambert conformal conic: [x, y] on the unit sphere, y to the north. */
export function lambert(lon, lat) {
  const rho = F / Math.pow(Math.tan(Math.PI / 4 + (lat * RAD) / 2), N);
  const theta = N * (lon * RAD - LAMBDA0);
  return [rho * Math.sin(theta), RHO0 - rho * Math.cos(theta)];
}

export const WIDTH = 1000, HEIGHT = 900;
const METRO_BOX = [190, 10, 990, 890];           // x0, y0, x1, y1 of metropolitan France
const INSET_X = [10, 170], INSET_H = 170, INSET_GAP = 8;

function bbox(points) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of points) {
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
  }
  return [x0, y0, x1, y1];
}

/** A transform that fits `box` (projected, y north) into `target` (SVG, y down), keeping ratios. */
function fit(box, target) {
  const [x0, y0, x1, y1] = box, [tx0, ty0, tx1, ty1] = target;
  const k = Math.min((tx1 - tx0) / (x1 - x0 || 1), (ty1 - ty0) / (y1 - y0 || 1));
  const dx = tx0 + ((tx1 - tx0) - k * (x1 - x0)) / 2, dy = ty0 + ((ty1 - ty0) - k * (y1 - y0)) / 2;
  return { k, apply: ([x, y]) => [dx + k * (x - x0), dy + k * (y1 - y)] };
}

function* lonLats(dep) {
  for (const poly of dep.polygons) for (const ring of poly) for (let i = 0; i + 1 < ring.length; i += 2) yield [ring[i], ring[i + 1]];
}

/**
 * The projection of a set of départements: `territory(code)` is 'metro' or the overseas code;
 * `project(lon, lat, territory)` gives SVG coordinates; `insets` the overseas boxes with labels.
 */
export function makeProjection(departements) {
  const overseas = departements.filter((d) => d.code.length === 3);
  const metro = departements.filter((d) => d.code.length !== 3);
  const metroFit = fit(bbox(metro.flatMap((d) => [...lonLats(d)].map(([lo, la]) => lambert(lo, la)))), METRO_BOX);
  const local = new Map();
  const insets = [];
  overseas.forEach((d, i) => {
    const ll = [...lonLats(d)];
    const [lo0, la0, lo1, la1] = bbox(ll);
    const c = Math.cos(((la0 + la1) / 2) * RAD);
    const flat = ([lo, la]) => [lo * c, la];
    const y0 = 10 + i * (INSET_H + INSET_GAP);
    const box = [INSET_X[0], y0 + 14, INSET_X[1], y0 + INSET_H];
    const f = fit(bbox(ll.map(flat)), [box[0] + 4, box[1] + 2, box[2] - 4, box[3] - 4]);
    // Scale bar in km: degrees of latitude are ~111.2 km.
    const kmPer100px = Math.round((100 / f.k) * 111.2);
    local.set(d.code, { apply: (p) => f.apply(flat(p)), extent: [lo0 - 0.5, la0 - 0.5, lo1 + 0.5, la1 + 0.5] });
    insets.push({ code: d.code, name: d.name, frame: [INSET_X[0], y0, INSET_X[1], y0 + INSET_H], scale: kmPer100px });
  });
  const territoryOfPoint = (lon, lat) => {
    for (const [code, l] of local) {
      const [a, b, c, e] = l.extent;
      if (lon >= a && lon <= c && lat >= b && lat <= e) return code;
    }
    return 'metro';
  };
  const project = (lon, lat, territory) => {
    const t = territory || territoryOfPoint(lon, lat);
    const l = local.get(t);
    return l ? l.apply([lon, lat]) : metroFit.apply(lambert(lon, lat));
  };
  const pathOf = (dep) => {
    const t = dep.code.length === 3 ? dep.code : 'metro';
    let d = '';
    for (const poly of dep.polygons) {
      for (const ring of poly) {
        for (let i = 0; i + 1 < ring.length; i += 2) {
          const [x, y] = project(ring[i], ring[i + 1], t);
          d += (i === 0 ? 'M' : 'L') + x.toFixed(1) + ' ' + y.toFixed(1);
        }
        d += 'Z';
      }
    }
    return d;
  };
  return { project, pathOf, insets, territoryOfPoint };
}
