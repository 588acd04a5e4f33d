// The home screen: governorates and the border as vectors, incidents clustered and coloured by
// kind, hotspots and corridors, a 10 km band along the border, a time slider over a histogram,
// and the detail of a clicked incident.
import L from 'leaflet';
import { h, svg, clear, debounce } from './dom.js';
import { t, tk, lang, isRtl, num, dateOnly, dateTime } from './i18n.js';
import { api, qs } from './api.js';
import { loadDetail } from './detail.js';

export const KIND_COLOURS = {
  seizure: '#b03a2e',
  crossing: '#1f618d',
  sighting: '#6c3483',
  clash: '#b9770e',
  attack: '#17202a',
  location: '#5d6d7e',
};
const OTHER_COLOUR = '#1e8449';
const CLUSTER_PX = 56;
const POINTS_MAX = 5000; // above this many incidents the server aggregates
const BAND_KM = 10;
const DAY_S = 86400;
const WEEK_S = 7 * DAY_S;
const WEEKS_ABOVE_S = 183 * DAY_S; // data spanning more than about six months: bins of a week
const HOT_COLOUR = '#e67e22';
const CORRIDOR_COLOUR = '#8e44ad';
const COMPASS = ['n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'];

// Leaflet's scale bar writes "100 km" itself; this one says it in the screen's language and digits.
const Scale = L.Control.Scale.extend({
  _updateMetric(maxMeters) {
    const meters = this._getRoundNum(maxMeters);
    const label = meters < 1000 ? t('map.scaleM', { n: meters }) : t('map.scaleKm', { n: meters / 1000 });
    this._updateScale(this._mScale, label, meters / maxMeters);
  },
});

function colour(kind) {
  return KIND_COLOURS[kind] || OTHER_COLOUR;
}

// A cluster's icon: a ring split by kind, the count in the middle (DOM, no HTML strings).
function clusterIcon(count, kinds) {
  const label = count > 1 ? num(count, { notation: 'compact' }) : '';
  const size = count === 1 ? 18 : Math.max(Math.min(52, 26 + Math.log10(count) * 10), label.length * 6.5 + 12);
  const r = size / 2 - 3;
  const c = 2 * Math.PI * r;
  const g = svg('svg', { width: size, height: size, viewBox: `0 0 ${size} ${size}`, 'aria-hidden': 'true', focusable: 'false' });
  g.append(svg('circle', { cx: size / 2, cy: size / 2, r, class: 'cluster-bg' }));
  let offset = 0;
  for (const [k, n] of Object.entries(kinds)) {
    if (!n) continue;
    const len = (n / count) * c;
    g.append(
      svg('circle', {
        cx: size / 2,
        cy: size / 2,
        r,
        fill: 'none',
        stroke: colour(k),
        'stroke-width': count === 1 ? r * 2 : 6,
        'stroke-dasharray': `${len} ${c - len}`,
        'stroke-dashoffset': -offset,
        transform: `rotate(-90 ${size / 2} ${size / 2})`,
      }),
    );
    offset += len;
  }
  if (count > 1) g.append(svg('text', { x: '50%', y: '50%', 'dominant-baseline': 'central', 'text-anchor': 'middle', class: 'cluster-count' }, label));
  return L.divIcon({ html: h('span', { class: 'cluster' }, g), className: 'cluster-icon', iconSize: [size, size] });
}

function kindsLabel(count, kinds) {
  const parts = Object.entries(kinds)
    .filter(([, n]) => n)
    .map(([k, n]) => `${tk('kind', k)} ${num(n)}`);
  return `${t('map.incidents', { n: count })}: ${parts.join(lang === 'ar' ? '، ' : ', ')}`;
}

function metresPerPixel(lat, zoom) {
  return (40075016.686 * Math.cos((lat * Math.PI) / 180)) / 2 ** (zoom + 8);
}

export function mapScreen(main, config) {
  const detail = h('section', { class: 'panel incident-detail', testid: 'incident-detail', 'aria-labelledby': 'detail-h', hidden: true });
  const mapEl = h('div', { class: 'map', id: 'map', testid: 'map', role: 'region', 'aria-label': t('map.label'), dir: 'ltr' });
  const status = h('p', { class: 'muted map-status', role: 'status' }, t('common.loading'));
  const slider = h('input', { type: 'range', id: 'time-slider', testid: 'time-slider', min: 0, max: 0, value: 0, step: 1 });
  const sliderLabel = h('label', { for: 'time-slider' }, t('map.timeEnd'));
  const windowSel = h(
    'select',
    { id: 'time-window' },
    h('option', { value: '7' }, t('map.window7')),
    h('option', { value: '30' }, t('map.window30')),
    h('option', { value: '0' }, t('map.windowAll')),
  );
  windowSel.value = '30';
  const rangeText = h('output', { for: 'time-slider', class: 'range-text' });
  const hist = svg('svg', { class: 'histogram', testid: 'histogram', role: 'img', viewBox: '0 0 300 60', preserveAspectRatio: 'none' });
  const histAxis = h('div', { class: 'hist-axis', 'aria-hidden': 'true' }, h('span', {}), h('span', {}));
  const kindBoxes = h('fieldset', { class: 'kinds' }, h('legend', {}, t('map.kinds')));
  const mapLegend = h(
    'ul',
    { class: 'map-legend', 'aria-label': t('map.legend') },
    h('li', {}, h('span', { class: 'key hot-key', 'aria-hidden': 'true' }), t('map.hotCell')),
    h('li', {}, h('span', { class: 'key corridor-key', 'aria-hidden': 'true' }), t('map.corridor')),
    h('li', {}, h('span', { class: 'key band-key', 'aria-hidden': 'true' }), t('map.layerBand', { km: BAND_KM })),
  );
  const layerBoxes = h('fieldset', { class: 'layers' }, h('legend', {}, t('map.layers')));

  main.append(
    h('h1', { class: 'visually-hidden' }, t('map.title')),
    h(
      'div',
      { class: 'map-screen' },
      h('div', { class: 'map-wrap' }, mapEl),
      h(
        'div',
        { class: 'map-side' },
        detail,
        h(
          'section',
          { class: 'panel', 'aria-labelledby': 'time-h' },
          h('h2', { id: 'time-h' }, t('map.time')),
          hist,
          histAxis,
          h('div', { class: 'row' }, sliderLabel, slider),
          h('div', { class: 'row' }, h('label', { for: 'time-window' }, t('map.window')), windowSel),
          rangeText,
          status,
        ),
        h('section', { class: 'panel' }, kindBoxes, layerBoxes, mapLegend),
      ),
    ),
  );

  const map = L.map(mapEl, { zoomControl: false, attributionControl: false, minZoom: 4, maxZoom: 16, worldCopyJump: false });
  L.control.zoom({ position: isRtl() ? 'topright' : 'topleft', zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(map);
  L.control.attribution({ position: isRtl() ? 'bottomleft' : 'bottomright', prefix: t('map.attribution') }).addTo(map);
  new Scale({ position: isRtl() ? 'bottomright' : 'bottomleft', imperial: false }).addTo(map);
  // Panes, bottom to top: governorates and the border (overlay, 400), their names (410), hot
  // cells and corridors (450), incident clusters (markers, 600). The names sit under the
  // clusters so that a cluster never hides behind a label and a label stays readable beside it.
  map.createPane('unitLabels').style.zIndex = 410;
  map.createPane('hot').style.zIndex = 450;
  map.getPane('unitLabels').style.pointerEvents = 'none';
  map.setView([34.6, 41.0], 7);
  if (config && typeof config.tile_url === 'string' && config.tile_url) {
    L.tileLayer(config.tile_url, { maxZoom: 16, attribution: t('map.tiles') }).addTo(map);
  }

  const unitsLayer = L.layerGroup().addTo(map);
  const bandLayer = L.layerGroup().addTo(map);
  const borderLayer = L.layerGroup().addTo(map);
  const hotLayer = L.layerGroup().addTo(map);
  const incLayer = L.layerGroup().addTo(map);
  let borderLines = [];
  let bandLines = [];

  const state = { mode: 'points', features: [], hist: null, total: 0, kinds: new Set(), off: new Set(), truncated: false };
  let destroyed = false;

  // ---- layers toggles
  const layers = [
    ['units', t('map.layerUnits'), unitsLayer],
    ['border', t('map.layerBorder'), borderLayer],
    ['band', t('map.layerBand', { km: BAND_KM }), bandLayer],
    ['hotspots', t('map.layerHotspots'), hotLayer],
    ['incidents', t('map.layerIncidents'), incLayer],
  ];
  for (const [key, label, layer] of layers) {
    const id = `layer-${key}`;
    const box = h('input', {
      type: 'checkbox',
      id,
      checked: true,
      onchange: (e) => (e.target.checked ? layer.addTo(map) : layer.remove()),
    });
    layerBoxes.append(h('div', { class: 'check' }, box, h('label', { for: id }, label)));
  }

  function renderKindBoxes() {
    for (const el of kindBoxes.querySelectorAll('.check')) el.remove();
    for (const k of [...state.kinds].sort()) {
      const id = `kind-${k}`;
      const box = h('input', {
        type: 'checkbox',
        id,
        checked: !state.off.has(k),
        onchange: (e) => {
          if (e.target.checked) state.off.delete(k);
          else state.off.add(k);
          redraw();
        },
      });
      const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.backgroundColor = colour(k);
      kindBoxes.append(h('div', { class: 'check' }, box, h('label', { for: id }, sw, tk('kind', k))));
    }
  }

  // ---- boundaries
  api('/json/geo/units')
    .then((fc) => {
      if (destroyed) return;
      const units = L.geoJSON(fc, {
        style: () => ({ color: '#7b8a8b', weight: 1, fillColor: '#d5dbdb', fillOpacity: 0.25, interactive: false }),
        onEachFeature: (f, layer) => {
          const p = f.properties || {};
          const name = lang === 'ar' ? p.name_ar || p.adm1_ar || p.name_en || p.adm1_en : p.name_en || p.adm1_en || p.name_ar || p.adm1_ar;
          if (name) {
            layer.bindTooltip(h('span', { dir: 'auto' }, String(name)), { permanent: true, direction: 'center', className: 'unit-label', pane: 'unitLabels' });
            unitTips.push(layer.getTooltip());
          }
        },
      }).addTo(unitsLayer);
      const b = units.getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [10, 10] });
    })
    .catch(() => {});

  // A governorate's name sits at its centre unless a cluster covers it there; then it moves to the
  // nearest free place around the centre (up, down, to the sides), so both stay readable.
  const unitTips = [];
  function placeLabels() {
    const boxes = [...mapEl.querySelectorAll('.cluster-icon')].map((e) => e.getBoundingClientRect());
    const hits = (r, dx, dy) => boxes.some((b) => r.left + dx < b.right && r.right + dx > b.left && r.top + dy < b.bottom && r.bottom + dy > b.top);
    for (const tip of unitTips) {
      if (!tip.isOpen()) continue;
      tip.options.offset = L.point(0, 0);
      tip.update();
      const el = tip.getElement();
      if (!el) continue;
      const r = el.getBoundingClientRect();
      let best = [0, 0];
      if (hits(r, 0, 0)) {
        const tries = [];
        for (const d of [1, 2, 3]) for (const [x, y] of [[0, -1], [0, 1], [-1, 0], [1, 0], [-1, -1], [1, -1], [-1, 1], [1, 1]]) tries.push([x * d * (r.width / 2 + 14), y * d * (r.height + 10)]);
        best = tries.find(([x, y]) => !hits(r, x, y)) || best;
      }
      if (best[0] || best[1]) {
        tip.options.offset = L.point(best[0], best[1]);
        tip.update();
      }
    }
  }

  function drawBand() {
    const z = map.getZoom();
    const w = Math.min(6000, (2 * BAND_KM * 1000) / metresPerPixel(map.getCenter().lat, z));
    for (const l of bandLines) l.setStyle({ weight: w });
  }

  api('/json/geo/border')
    .then((fc) => {
      if (destroyed) return;
      const g = L.geoJSON(fc, { style: () => ({ color: '#922b21', weight: 2.5, interactive: false }) });
      g.addTo(borderLayer);
      borderLines = [g];
      const band = L.geoJSON(fc, { style: () => ({ color: '#e74c3c', opacity: 0.13, weight: 10, lineCap: 'round', lineJoin: 'round', interactive: false }) });
      band.addTo(bandLayer);
      band.eachLayer((l) => bandLines.push(l));
      drawBand();
    })
    .catch(() => {});
  map.on('zoomend', drawBand);

  // ---- hotspots and corridors
  // A hot cell is its hexagon plus a ring of a fixed size in pixels, so that a 10 km cell stays
  // visible at the zoom of the whole border. A corridor is drawn through its cells in the order
  // of its heading (the route lists them by cell), with a ring on each cell and an arrow at its
  // far end; a click tells its cells, length and heading.
  function hotPopup(p) {
    return h(
      'div',
      { class: 'popup', dir: isRtl() ? 'rtl' : 'ltr' },
      h('strong', {}, t('map.hotCell')),
      h('div', {}, t('map.hotCount', { n: Number(p.count) || 0, e: Number(Number(p.expected || 0).toFixed(2)) })),
      p.window_end ? h('div', {}, t('map.windowEnd', { date: dateTime(p.window_end) })) : null,
    );
  }

  function corridorPopup(p) {
    const deg = Number(p.direction_deg);
    return h(
      'div',
      { class: 'popup', dir: isRtl() ? 'rtl' : 'ltr' },
      h('strong', {}, t('map.corridor')),
      h('div', {}, t('map.corridorCells', { n: Number(p.cells) || 0 })),
      Number.isFinite(Number(p.length_km)) ? h('div', {}, t('map.lengthKm', { km: Number(p.length_km) })) : null,
      Number.isFinite(deg)
        ? h('div', {}, t('map.heading', { deg: Math.round(deg), dir: tk('compass', COMPASS[Math.round((((deg % 360) + 360) % 360) / 45) % 8]) }))
        : null,
      p.first ? h('div', {}, t('map.since', { date: dateOnly(Date.parse(p.first)) })) : null,
    );
  }

  function drawCorridor(f) {
    const p = f.properties || {};
    const pts = (f.geometry.coordinates || []).filter((c) => Array.isArray(c) && c.length >= 2).map(([lon, lat]) => L.latLng(lat, lon));
    if (!pts.length) return;
    const deg = Number(p.direction_deg);
    if (Number.isFinite(deg)) {
      // Along the heading: east is sin, north is cos (a degree of longitude shrinks with latitude).
      const k = Math.cos((pts[0].lat * Math.PI) / 180);
      const ex = Math.sin((deg * Math.PI) / 180);
      const ny = Math.cos((deg * Math.PI) / 180);
      pts.sort((a, b) => a.lng * k * ex + a.lat * ny - (b.lng * k * ex + b.lat * ny));
    }
    const popup = corridorPopup(p);
    const opts = { pane: 'hot', lineCap: 'round', lineJoin: 'round' };
    const group = L.featureGroup([
      L.polyline(pts, { ...opts, color: CORRIDOR_COLOUR, weight: 26, opacity: 0.22 }),
      L.polyline(pts, { ...opts, color: '#ffffff', weight: 11, opacity: 0.9 }),
      L.polyline(pts, { ...opts, color: CORRIDOR_COLOUR, weight: 6, opacity: 0.95, className: 'corridor-line' }),
      ...pts.map((ll) => L.circleMarker(ll, { pane: 'hot', radius: 5, color: '#ffffff', weight: 2, fillColor: CORRIDOR_COLOUR, fillOpacity: 1 })),
    ]);
    if (Number.isFinite(deg)) {
      const arrow = svg('svg', { width: 26, height: 26, viewBox: '-13 -13 26 26', 'aria-hidden': 'true', focusable: 'false' });
      arrow.append(svg('path', { d: 'M0,-11 L8,7 L0,2 L-8,7 Z', transform: `rotate(${deg})`, class: 'corridor-arrow' }));
      // The head sits beyond the last cell along the heading, clear of the clusters on the cells.
      const dx = Math.sin((deg * Math.PI) / 180);
      const dy = -Math.cos((deg * Math.PI) / 180);
      const icon = L.divIcon({ html: arrow, className: 'corridor-head', iconSize: [26, 26], iconAnchor: [13 - 34 * dx, 13 - 34 * dy] });
      group.addLayer(L.marker(pts[pts.length - 1], { pane: 'hot', icon, keyboard: false }));
    }
    group.bindPopup(popup);
    group.addTo(hotLayer);
    // Its name stays on the map, moved clear of the clusters like a governorate's.
    const mid = pts[Math.floor(pts.length / 2)];
    const tip = L.tooltip({ permanent: true, direction: 'center', className: 'corridor-label', pane: 'hot' }).setLatLng(mid).setContent(h('span', {}, t('map.corridor')));
    hotLayer.addLayer(tip);
    unitTips.push(tip);
    placeLabels();
  }

  api('/json/hotspots')
    .then((fc) => {
      if (destroyed) return;
      for (const f of fc.features || []) {
        const p = f.properties || {};
        if (!f.geometry) continue;
        if (p.kind === 'corridor' && f.geometry.type === 'LineString') {
          drawCorridor(f);
        } else if (f.geometry.type === 'Polygon') {
          const cell = L.geoJSON(f, { pane: 'hot', style: () => ({ color: '#a04000', weight: 2, fillColor: HOT_COLOUR, fillOpacity: 0.55 }) });
          const ring = L.circleMarker(cell.getBounds().getCenter(), { pane: 'hot', radius: 16, color: '#a04000', weight: 3, dashArray: '4 3', fillColor: HOT_COLOUR, fillOpacity: 0.35 });
          L.featureGroup([cell, ring]).bindPopup(hotPopup(p)).addTo(hotLayer);
        }
      }
    })
    .catch(() => {});

  // ---- time
  // The histogram runs from the first incident's day to today, in bins of a day (of a week when
  // that is more than about six months). The slider picks the bin that ends the window; by
  // default the bin of the newest incident, never one after today.
  function windowRange() {
    const hs = state.hist;
    if (!hs || !hs.counts.length) return { since: undefined, until: undefined, from: 0, to: -1 };
    const end = Number(slider.value);
    const days = Number(windowSel.value);
    const bins = days ? Math.max(1, Math.round((days * DAY_S) / hs.bin_s)) : hs.counts.length;
    const from = Math.max(0, end - bins + 1);
    const start = Date.parse(hs.start);
    return {
      from,
      to: end,
      sinceMs: start + from * hs.bin_s * 1000,
      untilMs: start + (end + 1) * hs.bin_s * 1000,
    };
  }

  function drawHistogram() {
    clear(hist);
    const hs = state.hist;
    if (!hs || !hs.counts.length) return;
    const n = hs.counts.length;
    const max = Math.max(1, ...hs.counts);
    const w = 300 / n;
    const { from, to, sinceMs, untilMs } = windowRange();
    const startMs = Date.parse(hs.start);
    const lastMs = Math.min(Date.now(), startMs + n * hs.bin_s * 1000 - 1);
    const label = t(hs.bin_s >= WEEK_S ? 'map.histLabelWeek' : 'map.histLabel', { from: dateOnly(startMs), to: dateOnly(lastMs), max });
    hist.append(svg('title', {}, label));
    // The selected window first, as a band behind the bars, with its edges.
    const x0 = (isRtl() ? n - 1 - to : from) * w;
    const bw = (to - from + 1) * w;
    hist.append(svg('rect', { x: x0, y: 0, width: bw, height: 60, class: 'sel' }));
    hs.counts.forEach((c, i) => {
      const x = (isRtl() ? n - 1 - i : i) * w;
      const bh = c ? Math.max(1.5, (c / max) * 54) : 0;
      hist.append(svg('rect', { x: x + w * 0.1, y: 60 - bh, width: Math.max(0.5, w * 0.8), height: bh, class: i >= from && i <= to ? 'bar in' : 'bar' }));
    });
    hist.append(svg('line', { x1: x0, x2: x0, y1: 0, y2: 60, class: 'sel-edge' }), svg('line', { x1: x0 + bw, x2: x0 + bw, y1: 0, y2: 60, class: 'sel-edge' }));
    hist.setAttribute('aria-label', label);
    histAxis.children[0].textContent = dateOnly(startMs);
    histAxis.children[1].textContent = dateOnly(lastMs);
    // A bin of a week may end after today: the window is said to end today.
    const text = t('map.range', { from: dateOnly(sinceMs), to: dateOnly(Math.min(untilMs - 1, Date.now())) });
    rangeText.textContent = text;
    slider.setAttribute('aria-valuetext', text);
  }

  // The default end of the window: the newest incident's bin, or today's, whichever is earlier.
  function setHistogram(hs) {
    state.hist = hs;
    const n = hs.counts.length;
    slider.max = String(Math.max(0, n - 1));
    let last = n - 1;
    while (last > 0 && !hs.counts[last]) last--;
    const nowBin = Math.floor((Date.now() - Date.parse(hs.start)) / (hs.bin_s * 1000));
    slider.value = String(Math.max(0, Math.min(last, nowBin, n - 1)));
    drawHistogram();
  }

  function binFor(spanMs) {
    return spanMs > WEEKS_ABOVE_S * 1000 ? WEEK_S : DAY_S;
  }

  function histogramFromPoints(features) {
    let min = Infinity;
    let max = -Infinity;
    for (const f of features) {
      const ms = Date.parse(f.properties.time);
      if (ms < min) min = ms;
      if (ms > max) max = ms;
    }
    if (!Number.isFinite(min)) return { bin_s: DAY_S, start: new Date().toISOString(), counts: [] };
    const start = Math.floor(min / (DAY_S * 1000)) * DAY_S * 1000;
    const hi = Math.max(max, Date.now());
    const binS = binFor(hi - start);
    const n = Math.floor((hi - start) / (binS * 1000)) + 1;
    const counts = new Array(n).fill(0);
    for (const f of features) {
      const i = Math.floor((Date.parse(f.properties.time) - start) / (binS * 1000));
      if (i >= 0 && i < n) counts[i] += 1;
    }
    return { bin_s: binS, start: new Date(start).toISOString(), counts };
  }

  // The server picks its bins from the span asked: without one it spans decades, so its first
  // histogram only says where the data begins; asked again from that day to tomorrow it answers
  // in days (in weeks past 240 days). Leading empty bins are dropped.
  async function fineHistogram(coarse) {
    const c = coarse.counts;
    const first = c.findIndex((v) => v > 0);
    if (first < 0) return coarse;
    const dayMs = DAY_S * 1000;
    const firstMs = Math.floor((Date.parse(coarse.start) + first * coarse.bin_s * 1000) / dayMs) * dayMs;
    const untilMs = (Math.floor(Date.now() / dayMs) + 1) * dayMs;
    if (firstMs >= untilMs) return coarse;
    const s = await api(`/json/incidents/summary${qs({ zoom: 0, since: new Date(firstMs).toISOString(), until: new Date(untilMs).toISOString() })}`);
    const hs = s && s.histogram;
    if (!hs || !Array.isArray(hs.counts) || !hs.counts.length || !hs.start) return coarse;
    const lead = Math.max(0, hs.counts.findIndex((v) => v > 0));
    return { bin_s: hs.bin_s, start: new Date(Date.parse(hs.start) + lead * hs.bin_s * 1000).toISOString(), counts: hs.counts.slice(lead) };
  }

  // ---- incidents
  function showIncident(id, fallback) {
    detail.hidden = false;
    const body = h('div', {});
    const closeBtn = h('button', { type: 'button', class: 'close', onclick: () => (detail.hidden = true), 'aria-label': t('common.close') }, '×');
    clear(detail).append(h('div', { class: 'panel-head' }, h('h2', { id: 'detail-h', tabindex: '-1' }, t('map.detail')), closeBtn), body);
    detail.querySelector('h2').focus();
    loadDetail(body, id, fallback);
  }

  function listPopup(latlng, features) {
    const box = h(
      'div',
      { class: 'popup', dir: isRtl() ? 'rtl' : 'ltr' },
      h('strong', {}, t('map.incidents', { n: features.length })),
      h(
        'ul',
        { class: 'popup-list' },
        features.slice(0, 30).map((f) =>
          h(
            'li',
            {},
            h(
              'button',
              { type: 'button', class: 'link', onclick: () => showIncident(f.id, { id: f.id, ...f.properties }) },
              h('span', { class: 'swatch', 'aria-hidden': 'true' }),
              `${tk('kind', f.properties.kind)} — ${dateTime(f.properties.time)}`,
            ),
          ),
        ),
      ),
    );
    box.querySelectorAll('.swatch').forEach((s, i) => (s.style.backgroundColor = colour(features[i].properties.kind)));
    L.popup().setLatLng(latlng).setContent(box).openOn(map);
  }

  function addCluster(latlng, count, kinds, onClick) {
    const m = L.marker(latlng, { icon: clusterIcon(count, kinds), title: kindsLabel(count, kinds), keyboard: true, riseOnHover: true });
    m.on('click', onClick);
    m.on('keypress', (e) => {
      if (e.originalEvent && (e.originalEvent.key === 'Enter' || e.originalEvent.key === ' ')) onClick();
    });
    m.addTo(incLayer);
  }

  function drawPoints() {
    const { sinceMs, untilMs } = windowRange();
    const zoom = map.getZoom();
    const bounds = map.getBounds().pad(0.2);
    const cells = new Map();
    for (const f of state.features) {
      const p = f.properties;
      if (state.off.has(p.kind)) continue;
      const ms = Date.parse(p.time);
      if (sinceMs !== undefined && (ms < sinceMs || ms >= untilMs)) continue;
      const [lon, lat] = f.geometry.coordinates;
      const ll = L.latLng(lat, lon);
      if (!bounds.contains(ll)) continue;
      const pt = map.project(ll, zoom);
      const key = `${Math.floor(pt.x / CLUSTER_PX)}:${Math.floor(pt.y / CLUSTER_PX)}`;
      let c = cells.get(key);
      if (!c) cells.set(key, (c = { lat: 0, lon: 0, items: [], kinds: {} }));
      c.lat += lat;
      c.lon += lon;
      c.items.push(f);
      c.kinds[p.kind] = (c.kinds[p.kind] || 0) + 1;
    }
    let shown = 0;
    for (const c of cells.values()) {
      const n = c.items.length;
      shown += n;
      const ll = L.latLng(c.lat / n, c.lon / n);
      addCluster(ll, n, c.kinds, () => {
        if (n === 1) {
          showIncident(c.items[0].id, { id: c.items[0].id, ...c.items[0].properties });
          return;
        }
        const b = L.latLngBounds(c.items.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
        if (zoom >= map.getMaxZoom() - 2 || b.getNorthEast().distanceTo(b.getSouthWest()) < 50) listPopup(ll, c.items);
        else map.fitBounds(b.pad(0.3), { maxZoom: Math.min(map.getMaxZoom(), zoom + 3) });
      });
    }
    return shown;
  }

  let summarySeq = 0;
  async function drawCells() {
    const seq = ++summarySeq;
    const { sinceMs, untilMs } = windowRange();
    const b = map.getBounds();
    const q = {
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(4)).join(','),
      zoom: map.getZoom(),
      since: sinceMs !== undefined ? new Date(sinceMs).toISOString() : undefined,
      until: untilMs !== undefined ? new Date(untilMs).toISOString() : undefined,
    };
    const s = await api(`/json/incidents/summary${qs(q)}`);
    if (seq !== summarySeq || destroyed) return null;
    clear(status);
    incLayer.clearLayers();
    let shown = 0;
    for (const cell of s.cells || []) {
      const kinds = {};
      let n = 0;
      for (const [k, v] of Object.entries(cell.kinds || {})) {
        state.kinds.add(k);
        if (state.off.has(k)) continue;
        kinds[k] = v;
        n += v;
      }
      if (!n) continue;
      shown += n;
      const ll = L.latLng(cell.lat, cell.lon);
      addCluster(ll, n, kinds, async () => {
        if (n <= 30 || map.getZoom() >= 13) {
          const d = 0.5 * metresPerPixel(cell.lat, map.getZoom()) * CLUSTER_PX / 111000;
          const fc = await api(`/json/incidents${qs({ bbox: [cell.lon - d, cell.lat - d, cell.lon + d, cell.lat + d].map((v) => v.toFixed(5)).join(','), limit: 30, since: q.since, until: q.until })}`);
          listPopup(ll, fc.features || []);
        } else {
          map.setView(ll, Math.min(map.getMaxZoom(), map.getZoom() + 2));
        }
      });
    }
    return shown;
  }

  async function redraw() {
    if (destroyed) return;
    drawHistogram();
    if (state.mode === 'points') {
      incLayer.clearLayers();
      const shown = drawPoints();
      status.textContent = state.truncated ? t('map.truncated', { n: state.features.length }) : t('map.shown', { n: shown });
    } else {
      try {
        const shown = await drawCells();
        if (shown !== null) status.textContent = t('map.shownOf', { n: shown, total: state.total });
      } catch (e) {
        status.textContent = t('common.loadError');
      }
    }
    renderKindBoxes();
    placeLabels();
    // The browser tests and benchmarks wait for this: the incident layer is drawn.
    mapEl.setAttribute('data-drawn', String(incLayer.getLayers().length));
  }
  const redrawSoon = debounce(redraw, 150);

  async function loadIncidents() {
    let summary = null;
    try {
      summary = await api(`/json/incidents/summary${qs({ zoom: map.getZoom() })}`);
    } catch {
      summary = null; // an older node: points only
    }
    if (summary && Number(summary.total) > POINTS_MAX) {
      state.mode = 'cells';
      state.total = Number(summary.total);
      if (summary.histogram && Array.isArray(summary.histogram.counts) && summary.histogram.counts.length) {
        let hs = summary.histogram;
        try {
          hs = await fineHistogram(hs);
        } catch {
          // the coarse bins still select a window
        }
        setHistogram(hs);
      }
      return;
    }
    const features = [];
    let next = null;
    do {
      const fc = await api(`/json/incidents${qs({ limit: 1000, next })}`);
      features.push(...(fc.features || []).filter((f) => f.geometry && f.geometry.type === 'Point'));
      next = fc.more ? fc.next : null;
    } while (next && features.length < POINTS_MAX && !destroyed);
    state.truncated = Boolean(next);
    state.features = features;
    for (const f of features) state.kinds.add(f.properties.kind);
    setHistogram(histogramFromPoints(features));
  }

  slider.addEventListener('input', redrawSoon);
  windowSel.addEventListener('change', redrawSoon);
  map.on('moveend', redrawSoon);

  loadIncidents()
    .then(() => !destroyed && redraw())
    .catch(() => {
      status.textContent = t('common.loadError');
    });

  // The map's container size is known only once it is in the document.
  requestAnimationFrame(() => map.invalidateSize());

  return () => {
    destroyed = true;
    map.stop();
    map.off();
    map.remove();
  };
}
