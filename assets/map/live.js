// Live updates: every N seconds, the aggregates (conditional: 304 while nothing the certificate
// may see changed) and the places changed since the last change seen (scenario S4,
// `_lastUpdated=gt…`, conditional too). The URL of the S4 poll changes only when a change was
// seen, so its ETag is sent back and answered 304 while nothing changed.

import { BASE, getJson, searchAll, readPlace } from './fhir.js';

export class Poller {
  /**
   * `onReports(bundle)` with new aggregates, `onPlaces(places)` with changed places,
   * `onStatus(text, ok)` after each round.
   */
  constructor({ reportsUrl, since, onReports, onPlaces, onStatus }) {
    Object.assign(this, { reportsUrl, since, onReports, onPlaces, onStatus });
    this.reportsTag = null;
    this.placesTag = null;
    this.timer = null;
    this.periodS = 30;
    this.running = false;
  }

  start(periodS, reportsTag) {
    this.periodS = periodS;
    if (reportsTag) this.reportsTag = reportsTag;
    this.schedule();
  }

  setPeriod(periodS) {
    this.periodS = periodS;
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.round(), this.periodS * 1000);
  }

  placesUrl() {
    return `${BASE}/Location?_lastUpdated=gt${encodeURIComponent(this.since)}&_sort=_lastUpdated&_count=200&_elements=identifier,name,position,address,extension`;
  }

  async round() {
    if (this.running) return;
    this.running = true;
    const notes = [];
    try {
      if (this.reportsUrl) {
        const r = await getJson(this.reportsUrl, this.reportsTag);
        if (r.status !== 304) { this.reportsTag = r.etag; this.onReports(r.body); notes.push('agrégats mis à jour'); }
      }
      const url = this.placesUrl();
      const first = await getJson(url, this.placesTag);
      if (first.status === 304) {
        notes.push('aucun changement');
      } else {
        const entries = (first.body.entry || []).map((e) => e.resource).filter((r) => r && r.resourceType === 'Location');
        let places = entries.map(readPlace);
        if (first.body.link && first.body.link.some((l) => l.relation === 'next')) {
          places = (await searchAll(url, 50)).resources.map(readPlace);
        }
        if (places.length) {
          this.onPlaces(places);
          // The next poll starts after the latest change seen (or the server's answer instant).
          const latest = places.map((p) => p.lastUpdated).filter(Boolean).sort().pop();
          this.since = latest || (first.body.meta && first.body.meta.lastUpdated) || this.since;
          this.placesTag = null;
          notes.push(`${places.length} lieu(x) changé(s)`);
        } else {
          this.placesTag = first.etag;
          notes.push('aucun changement');
        }
      }
      this.onStatus(notes.join(', '), true);
    } catch (e) {
      this.onStatus(`échec : ${e.message}`, false);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
