// Shared by every page: the filters kept in the address, calls to the HTTP
// API (the same answers as the CLI), errors, the "as of" control, CSV and
// JSON downloads, and the ready signal the browser tests wait for.

const DAY = 86400000;

// ApiError is a refusal of the API: a bad parameter (400) or a failure.
export class ApiError extends Error {
  constructor(message, parameter, status) {
    super(message);
    this.parameter = parameter;
    this.status = status;
  }
}

// state says what the page shows: loading, ready or error. Tests and
// benchmarks wait on body[data-state=ready]; performance marks time it.
export function setState(state) {
  document.body.dataset.state = state;
  if (state === 'ready') performance.mark('datamap:ready');
}

// api fetches an API answer with the session cookie. A lost session goes
// to the login page; a refused parameter is shown next to its filter.
export async function api(path, params) {
  const query = params && params.toString();
  const res = await fetch(path + (query ? '?' + query : ''), {
    credentials: 'same-origin', headers: { Accept: 'application/json' },
  });
  if (res.status === 401) {
    const next = location.pathname + location.search;
    location.assign('/login?expired=1&next=' + encodeURIComponent(next));
    throw new ApiError('not logged in', '', 401);
  }
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = (body && body.error) || `the server answered ${res.status}`;
    throw new ApiError(msg, (body && body.parameter) || '', res.status);
  }
  return body;
}

// showError puts an error above the page, naming the filter it is about.
export function showError(err) {
  const box = document.getElementById('error');
  if (!box) return;
  document.querySelectorAll('[aria-invalid="true"]').forEach((el) => el.removeAttribute('aria-invalid'));
  if (!err) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  const control = err.parameter && document.getElementById('f-' + err.parameter);
  const label = control ? document.querySelector(`label[for="f-${err.parameter}"]`).textContent : err.parameter;
  box.textContent = (label ? label + ': ' : '') + err.message;
  box.dataset.parameter = err.parameter || '';
  box.hidden = false;
  if (control) control.setAttribute('aria-invalid', 'true');
  setState('error');
}

const form = () => document.getElementById('filters');

function controls() {
  const f = form();
  return f ? [...f.elements].filter((el) => el.name) : [];
}

// filterParams are the filters in the address that apply to this page,
// as the API names them.
export function filterParams() {
  const url = new URLSearchParams(location.search);
  const out = new URLSearchParams();
  for (const el of controls()) {
    const v = url.get(el.name);
    if (v && el.closest('[data-applies]').dataset.applies === 'true') out.set(el.name, v);
  }
  return out;
}

// param returns one value of the address, filter or not.
export function param(name) {
  return new URLSearchParams(location.search).get(name) || '';
}

// setParam changes one value of the address (node, group…) without
// reloading; filters go through applyFilters instead.
export function setParam(name, value) {
  const url = new URLSearchParams(location.search);
  if (value) url.set(name, value); else url.delete(name);
  history.replaceState(null, '', location.pathname + (url.toString() ? '?' + url : ''));
  syncLinks();
}

// syncLinks carries the filters to the other pages' links.
function syncLinks() {
  const url = new URLSearchParams(location.search);
  url.delete('node');
  url.delete('replayed');
  url.delete('missing');
  const q = url.toString();
  document.querySelectorAll('a[data-keep-filters]').forEach((a) => {
    a.href = a.getAttribute('href').split('?')[0] + (q ? '?' + q : '');
  });
}

// fillControls shows the address's filters in the form. A value the form
// does not offer (a typo in a link) is added, so the API's error about it
// is seen next to it.
function fillControls() {
  const url = new URLSearchParams(location.search);
  for (const el of controls()) {
    const v = url.get(el.name) || '';
    if (el.tagName === 'SELECT' && v && ![...el.options].some((o) => o.value === v)) {
      el.add(new Option(v, v));
    }
    el.value = v;
  }
  asOf.show();
}

// applyFilters writes the form into the address and tells the page.
function applyFilters() {
  performance.mark('datamap:filters');
  const url = new URLSearchParams(location.search);
  for (const el of controls()) {
    if (el.value) url.set(el.name, el.value.trim()); else url.delete(el.name);
  }
  url.delete('node');
  history.pushState(null, '', location.pathname + (url.toString() ? '?' + url : ''));
  syncLinks();
  showError(null);
  asOf.show();
  window.dispatchEvent(new Event('datamap:filters'));
}

// asOf is the time control: a date and a slider of days that moves the
// whole page back in time.
const asOf = {
  first: null, // the earliest day with evidence, when known
  slider: () => document.getElementById('asof-slider'),
  date: () => document.getElementById('f-as_of'),
  bounds() {
    const today = Date.UTC(...todayParts());
    const first = this.first !== null ? Math.min(this.first, today) : today - 365 * DAY;
    return { first, today, days: Math.round((today - first) / DAY) };
  },
  show() {
    const slider = this.slider();
    if (!slider) return;
    const { first, days } = this.bounds();
    slider.max = String(days);
    const v = this.date().value;
    slider.value = v ? String(Math.max(0, Math.min(days, Math.round((Date.parse(v) - first) / DAY)))) : String(days);
    slider.setAttribute('aria-valuetext', v ? 'as of ' + v : 'now');
  },
  init() {
    const slider = this.slider();
    if (!slider) return;
    slider.addEventListener('input', () => {
      const { first, days } = this.bounds();
      const n = Number(slider.value);
      this.date().value = n >= days ? '' : new Date(first + n * DAY).toISOString().slice(0, 10);
      slider.setAttribute('aria-valuetext', this.date().value ? 'as of ' + this.date().value : 'now');
    });
    slider.addEventListener('change', applyFilters);
    document.getElementById('asof-now').addEventListener('click', () => {
      this.date().value = '';
      applyFilters();
    });
  },
};

function todayParts() {
  const d = new Date();
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}

// setFirstDay tells the time control where the evidence starts.
export function setFirstDay(iso) {
  if (!iso) return;
  const t = Date.parse(iso.slice(0, 10));
  if (!Number.isNaN(t) && (asOf.first === null || t < asOf.first)) {
    asOf.first = t;
    asOf.show();
  }
}

// initFilters wires the filter form. The page reloads its data on the
// datamap:filters event.
export function initFilters() {
  const f = form();
  if (!f) return;
  fillControls();
  syncLinks();
  asOf.init();
  f.addEventListener('submit', (e) => { e.preventDefault(); applyFilters(); });
  for (const el of controls()) {
    if (el.type !== 'range') el.addEventListener('change', applyFilters);
  }
  document.getElementById('clear-filters').addEventListener('click', () => {
    for (const el of controls()) el.value = '';
    applyFilters();
  });
  window.addEventListener('popstate', () => {
    fillControls();
    syncLinks();
    showError(null);
    window.dispatchEvent(new Event('datamap:filters'));
  });
}

// cell renders a value the way the CLI's table and CSV do: times in RFC
// 3339 in UTC (empty when unset), to the second in a table and, exact, with
// the milliseconds the CSV keeps (trailing zeros dropped, as Go writes
// them); lists joined by ", ".
export function cell(value, kind, exact = false) {
  if (value === null || value === undefined) return '';
  if (kind === 'time') {
    if (typeof value !== 'string' || value.startsWith('0001-01-01')) return '';
    const t = new Date(value);
    if (Number.isNaN(t.getTime())) return value;
    if (!exact) return t.toISOString().slice(0, 19) + 'Z';
    return t.toISOString().replace(/\.?0*Z$/, 'Z');
  }
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

// The words people read for the keys the catalog holds (GET
// /glossary.json, package words): category, purpose and data-subject names
// from the taxonomy, legal bases, roles and safeguards in words, each
// country's transfer status. Pages show the words with the key in a title
// (hover); CSV and JSON downloads keep the keys.
const emptyGlossary = { fields: {}, countries: {}, units: [], no_safeguard_needed: '', safeguard_missing: '' };
let glossaryData = emptyGlossary;
let glossaryLoad = null;

// glossary loads the words once; it resolves to them, or to none (then
// label shows keys) when they cannot be had.
export function glossary() {
  if (!glossaryLoad) {
    glossaryLoad = fetch('/glossary.json', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((res) => (res.ok ? res.json() : null))
      .catch(() => null)
      .then((g) => {
        glossaryData = g && g.fields ? g : emptyGlossary;
        return glossaryData;
      });
  }
  return glossaryLoad;
}

// The vocabularies a key is looked up in when the caller does not say
// which field holds it, most specific first.
const vocabularies = ['category', 'purpose', 'data_subject', 'legal_basis', 'role', 'safeguard',
  'special_condition', 'kind', 'origin', 'country_status'];

// label returns the words for a key: those of field (the API's JSON name
// of the column, e.g. "category", "legal_basis") when given, else of the
// first vocabulary that has the key; the key itself when none does (a
// field that is no vocabulary, such as "system"), or before glossary()
// has loaded.
export function label(key, field) {
  if (key === null || key === undefined || key === '') return '';
  const k = String(key);
  const f = glossaryData.fields;
  if (field) return (f[field] && f[field][k]) || k; // a system or recipient name stays as it is
  for (const v of vocabularies) {
    if (f[v] && f[v][k]) return f[v][k];
  }
  return k;
}

// duration says an ISO 8601 duration in words ("P24M" → "24 months",
// "P1Y6M" → "1 year 6 months"), with the glossary's units, as package
// words does; anything else as it is.
export function duration(iso) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso || '');
  const units = glossaryData.units;
  if (!m || iso === 'P' || units.length !== 7) return iso || '';
  const parts = [];
  for (let i = 0; i < 7; i++) {
    const n = m[i + 1] === undefined ? 0 : Number(m[i + 1]);
    if (n) parts.push(`${n} ${n === 1 ? units[i].one : units[i].many}`);
  }
  return parts.length ? parts.join(' ') : `0 ${units[3].many}`;
}

// countryStatus says where a country stands for transfers: "EEA",
// "adequacy decision", "DPF (certified recipients only)", "third country".
export function countryStatus(country) {
  const status = glossaryData.countries[country];
  return status ? label(status, 'country_status') : '';
}

// safeguardIn says what covers a transfer to country: the safeguard's
// name, or, without one, whether none is needed there or one is missing.
export function safeguardIn(country, safeguard) {
  if (safeguard && safeguard !== 'none') return label(safeguard, 'safeguard');
  const status = glossaryData.countries[country];
  if (!status) return safeguard || '';
  return status === 'eea' || status === 'adequacy' ? glossaryData.no_safeguard_needed : glossaryData.safeguard_missing;
}

// shown is what a table cell shows for a row's column, and the key or
// exact value behind it for its title ('' when they are the same): words
// for keys, durations in words, dates to the day, numbers with
// thousands separators.
export function shown(row, col) {
  const value = row[col.name];
  const exact = cell(value, col.kind);
  let text = exact;
  switch (true) {
    case col.kind === 'time':
      text = exact.slice(0, 10);
      break;
    case col.kind === 'number' && typeof value === 'number':
      text = value.toLocaleString('en-US');
      break;
    case col.name === 'adequacy':
      text = countryStatus(row.country) || exact;
      break;
    case col.name === 'safeguard':
      text = row.country || value ? safeguardIn(row.country, value) : '';
      break;
    case col.name === 'retention':
      text = duration(value);
      break;
    case Array.isArray(value):
      text = value.map((v) => label(v, col.name)).join(', ');
      break;
    case typeof value === 'string':
      text = label(value, col.name);
      break;
  }
  return { text, title: text === exact ? '' : exact };
}

// csvField quotes a field exactly as Go's encoding/csv does.
function csvField(s) {
  if (s === '') return s;
  if (s === '\\.' || /[",\r\n]/.test(s) || /^\s/u.test(s)) return '"' + s.replaceAll('"', '""') + '"';
  return s;
}

// toCSV writes rows with the CLI's header and cells (`--format csv`).
export function toCSV(columns, rows) {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(cell(r[c.name], c.kind, true))).join(','));
  return lines.join('\n') + '\n';
}

// download saves text as a file.
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// el makes an element with text content (never HTML) and attributes.
export function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  return e;
}

// mapLink links to a node on the map, keeping the filters.
export function mapLink(name) {
  const url = new URLSearchParams(location.search);
  url.set('node', name);
  return '/?' + url;
}

// fmt shortens big numbers for labels: 12400 → 12.4k.
export function fmt(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(1).replace(/\.0$/, '') + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1).replace(/\.0$/, '') + 'k';
  return String(n);
}

// plural counts things in words: "1 finding", "2 findings"; show formats
// the number (fmt, say).
export function plural(n, one, many = one + 's', show = String) {
  return `${show(n)} ${n === 1 ? one : many}`;
}

// today is the date for file names.
export function stamp() {
  return param('as_of') || new Date().toISOString().slice(0, 10);
}

// aboutCell is what a finding is about in words: "sms-gateway: marketing" names
// the purpose ("sms-gateway: Marketing"), the key stays in the title.
export function aboutCell(subject) {
  const i = subject.lastIndexOf(': ');
  const td = el('td', subject);
  if (i < 0) return td;
  const words = label(subject.slice(i + 2));
  if (words !== subject.slice(i + 2)) {
    td.textContent = subject.slice(0, i + 2) + words;
    td.title = subject;
  }
  return td;
}
