// The table pages — inventory, flows, transfers, retention, traffic: the
// API's answer under the page's filters, sortable and paged, each system and
// recipient linking to its node on the map, downloadable as CSV (the CLI's
// columns and cells) or JSON, exactly as sorted and filtered.
//
// A page shows the columns that answer its question; the others are in each
// row's details, behind a disclosure button. When two rows would look the
// same, the hidden column that tells them apart is shown too.
import {
  aboutCell, api, cell, countryStatus, download, el, fmt, filterParams, glossary, mapLink, param, plural, setFirstDay, setState, shown,
  showError, stamp, toCSV,
} from './common.js';

const LIMIT = 10000; // the API's largest page

// The columns each page shows first, in the order shown.
const SHOWN = {
  inventory: ['system', 'category', 'data_subject', 'purpose', 'legal_basis', 'retention', 'records'],
  flows: ['system', 'recipient', 'country', 'category', 'purpose', 'records'],
  transfers: ['recipient', 'country', 'safeguard', 'category', 'records', 'finding'],
  retention: ['system', 'category', 'retention', 'held_records', 'oldest_held', 'held_until', 'finding'],
  traffic: ['system', 'host', 'class', 'recipient', 'country', 'reported', 'declared', 'spans', 'last_seen'],
};

// What the drift findings about people's choices are about: a system and
// the purpose (or category) of the rows that are their evidence.
const PEOPLE_FINDINGS = {
  processing_after_withdrawal: { topic: 'purpose', says: 'Processing after consent was withdrawn' },
  processing_after_erasure: { topic: 'category', says: 'Collected again after an erasure' },
};

const NOTE = '_note'; // the column of the drift findings a row is evidence of

const table = () => document.getElementById('table');

const state = {
  question: '', columns: [], shown: [], rows: [], view: [], total: 0,
  sort: null, dir: 1, page: 0, size: 50, notes: new Map(),
};

const measure = (c) => c.kind === 'number' || c.kind === 'time';
const linked = new Set(['system', 'recipient']);
const long = new Set(['finding', 'message', 'reason', NOTE]);

// arrange puts a page's rows in its natural order: transfers grouped by
// country with findings first, retention past-retention only, oldest first,
// elsewhere the rows that are a finding's evidence first.
function arrange(rows) {
  if (state.question === 'transfers') {
    const byCountry = new Map();
    for (const r of rows) {
      if (!byCountry.has(r.country)) byCountry.set(r.country, []);
      byCountry.get(r.country).push(r);
    }
    const flagged = (r) => Boolean(r.finding || state.notes.get(r));
    const groups = [...byCountry.entries()].map(([country, rs]) => ({
      country, rows: rs.sort((a, b) => Number(!a.finding) - Number(!b.finding) || Number(!flagged(a)) - Number(!flagged(b))),
      findings: rs.filter((r) => r.finding).length,
    }));
    groups.sort((a, b) => (b.findings > 0) - (a.findings > 0) || a.country.localeCompare(b.country));
    return groups.flatMap((g) => g.rows);
  }
  if (state.question === 'retention' && document.getElementById('only-findings').checked) {
    return rows.filter((r) => r.finding)
      .sort((a, b) => (Date.parse(a.oldest_held) || Infinity) - (Date.parse(b.oldest_held) || Infinity));
  }
  if (state.notes.size) return [...rows.filter((r) => state.notes.has(r)), ...rows.filter((r) => !state.notes.has(r))];
  return rows;
}

function value(r, col) {
  return col.name === NOTE ? noteText(r) : r[col.name];
}

function compare(a, b, col) {
  const x = value(a, col);
  const y = value(b, col);
  if (x === y) return 0;
  if (x === null || x === undefined || x === '') return 1;
  if (y === null || y === undefined || y === '') return -1;
  switch (col.kind) {
    case 'number': return x - y;
    case 'time': return Date.parse(x) - Date.parse(y);
    case 'bool': return Number(x) - Number(y);
    default: return cell(x, col.kind).localeCompare(cell(y, col.kind));
  }
}

function view() {
  const rows = arrange(state.rows.slice());
  if (state.sort) {
    const col = state.shown.find((c) => c.name === state.sort) || state.columns.find((c) => c.name === state.sort);
    if (col) rows.sort((a, b) => state.dir * compare(a, b, col));
  }
  state.view = rows;
}

// shownColumns are the page's first columns, and every hidden one that
// tells apart rows which would otherwise look the same (Twilio twice, for
// routing and for marketing: the purpose is shown). Counts and dates do not
// tell rows apart: they are what the rows measure.
function shownColumns(rows) {
  const first = SHOWN[state.question] || state.columns.map((c) => c.name);
  const visible = new Set(first.filter((n) => state.columns.some((c) => c.name === n)));
  const who = (r) => state.columns.filter((c) => visible.has(c.name) && !measure(c)).map((c) => cell(r[c.name], c.kind)).join('\u0000');
  for (;;) {
    const groups = new Map();
    for (const r of rows) {
      const k = who(r);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(r);
    }
    const alike = [...groups.values()].filter((g) => g.length > 1);
    const apart = alike.length && state.columns.find((c) => !visible.has(c.name) && !measure(c) &&
      alike.some((g) => new Set(g.map((r) => cell(r[c.name], c.kind))).size > 1));
    if (!apart) break;
    visible.add(apart.name);
  }
  // The first columns in their order; those added after the last one that
  // names something, before the counts; long text last.
  const byName = (n) => state.columns.find((c) => c.name === n);
  const firstCols = first.filter((n) => visible.has(n)).map(byName);
  const added = state.columns.filter((c) => visible.has(c.name) && !first.includes(c.name));
  const names = firstCols.filter((c) => !measure(c) && !long.has(c.name));
  const rest = firstCols.filter((c) => measure(c) && !long.has(c.name));
  const text = firstCols.filter((c) => long.has(c.name));
  const out = [...names, ...added, ...rest, ...text];
  if (state.notes.size && !out.some((c) => c.name === 'finding')) out.push({ name: NOTE, label: 'finding', kind: 'text' });
  return out;
}

function noteText(r) {
  const n = state.notes.get(r);
  return n ? n.map((f) => `${PEOPLE_FINDINGS[f.kind].says}: this row is evidence of a drift finding (${f.severity}). ${f.message}.`).join(' ') : '';
}

// notesFor finds, for each row, the drift findings about people's choices
// it is evidence of: same system, and the finding's purpose or category.
function notesFor(rows, findings) {
  const notes = new Map();
  for (const f of findings || []) {
    const kind = PEOPLE_FINDINGS[f.kind];
    if (!kind) continue;
    const [system, topic] = f.subject.split(': ');
    for (const r of rows) {
      if (r.system === system && r[kind.topic] === topic) {
        if (!notes.has(r)) notes.set(r, []);
        notes.get(r).push(f);
      }
    }
  }
  return notes;
}

function header() {
  const tr = el('tr');
  tr.append(el('th', null, { scope: 'col', class: 'disclose' }));
  tr.firstChild.append(el('span', 'Details', { class: 'visually-hidden' }));
  for (const c of state.shown) {
    const th = el('th', null, { scope: 'col', 'data-col': c.name, 'aria-sort': c.name === state.sort ? (state.dir > 0 ? 'ascending' : 'descending') : 'none' });
    const b = el('button', c.label, { type: 'button' });
    b.addEventListener('click', () => {
      state.dir = state.sort === c.name ? -state.dir : 1;
      state.sort = c.name;
      view();
      render();
    });
    th.append(b);
    tr.append(th);
  }
  table().tHead.replaceChildren(tr);
}

function fill(td, c, r) {
  // Words for people, the key or exact time on hover.
  const { text, title } = c.name === NOTE ? { text: noteText(r), title: '' } : shown(r, c);
  if (title) td.title = title;
  if (linked.has(c.name) && text) {
    td.append(el('a', text, { href: mapLink(text), title: 'show ' + text + ' on the map' }));
  } else if (c.name === 'finding' && state.notes.get(r)) {
    td.textContent = [text, noteText(r)].filter(Boolean).join(' ');
  } else {
    td.textContent = text;
  }
  if ((c.name === NOTE || c.name === 'finding') && state.notes.get(r)) {
    td.append(' ', el('a', 'See Drift', { href: '/drift' + location.search }));
  }
}

function details(r, id) {
  const tr = el('tr', null, { class: 'details', id, hidden: '' });
  const td = el('td', null, { colspan: String(state.shown.length + 1) });
  const dl = el('dl');
  for (const c of state.columns) {
    if (state.shown.some((s) => s.name === c.name)) continue;
    const dd = el('dd');
    fill(dd, c, r);
    if (!dd.textContent) dd.textContent = '—';
    dl.append(el('dt', c.label), dd);
  }
  td.append(dl);
  tr.append(td);
  return tr;
}

function title(r) {
  return state.shown.filter((c) => !measure(c) && !long.has(c.name)).map((c) => shown(r, c).text).filter(Boolean).join(', ');
}

function render() {
  header();
  const tbody = table().tBodies[0];
  tbody.replaceChildren();
  const start = state.page * state.size;
  const rows = state.view.slice(start, start + state.size);
  const span = String(state.shown.length + 1);
  let group = null;
  rows.forEach((r, i) => {
    if (state.question === 'transfers' && !state.sort && r.country !== group) {
      group = r.country;
      const members = state.view.filter((x) => x.country === group);
      const findings = members.filter((x) => x.finding).length;
      const head = el('tr', null, { class: 'group' + (findings ? ' has-finding' : '') });
      head.append(el('th', `${r.country} — ${r.country_name} · ${countryStatus(r.country)} · ${plural(members.length, 'transfer')}` +
        (findings ? ` · ${plural(findings, 'finding')}` : ''), { colspan: span, scope: 'colgroup' }));
      tbody.append(head);
    }
    const flagged = r.finding || state.notes.get(r);
    const tr = el('tr', null, flagged ? { class: 'finding' } : {});
    const id = `row-${start + i}`;
    const toggle = el('button', null, { type: 'button', 'aria-expanded': 'false', 'aria-controls': id, class: 'disclose' });
    toggle.append(el('span', '▸', { 'aria-hidden': 'true' }), el('span', 'Details of ' + title(r), { class: 'visually-hidden' }));
    const extra = details(r, id);
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      toggle.firstChild.textContent = open ? '▾' : '▸';
      extra.hidden = !open;
    });
    const first = el('td', null, { class: 'disclose' });
    first.append(toggle);
    tr.append(first);
    for (const c of state.shown) {
      const td = el('td', null, { 'data-col': c.name, class: c.kind === 'number' ? 'num' : c.kind === 'time' ? 'time' : long.has(c.name) ? 'long' : '' });
      fill(td, c, r);
      tr.append(td);
    }
    tbody.append(tr, extra);
  });
  if (!rows.length) {
    const empty = el('tr', null, { class: 'empty' });
    empty.append(el('td', emptyText(), { colspan: span }));
    tbody.append(empty);
  }
  const pages = Math.max(1, Math.ceil(state.view.length / state.size));
  document.getElementById('pageinfo').textContent = `page ${state.page + 1} of ${pages}`;
  document.getElementById('prev').disabled = state.page === 0;
  document.getElementById('next').disabled = state.page >= pages - 1;
  const more = state.total > state.rows.length ? ` (the first ${state.rows.length} of ${state.total})` : '';
  const sum = (k) => state.view.reduce((n, r) => n + (r[k] || 0), 0);
  const measured = state.question === 'traffic' ? plural(sum('spans'), 'call', 'calls', fmt)
    : plural(sum('records') + sum('held_records'), 'record', 'records', fmt);
  document.getElementById('count').textContent = `${plural(state.view.length, 'row')}${more}, ${measured}` +
    (state.findings !== undefined ? `, ${plural(state.findings, 'finding')}` : '');
}

// asOfWords is the moment the page answers for, in words.
export function asOfWords() {
  return param('as_of') ? 'as of the end of ' + param('as_of') : 'as of now (' + new Date().toISOString().slice(0, 10) + ')';
}

// emptyText says what was checked when a page has no row to show.
function emptyText() {
  const filtered = filterParams();
  filtered.delete('as_of');
  const under = [...filtered.keys()].length ? ' under these filters' : '';
  const checked = plural(state.rows.length, 'holding');
  switch (state.question) {
    case 'retention':
      return state.rows.length
        ? `No record is held past its retention: checked ${checked} (a system and a category each)${under}, ${asOfWords()}.`
        : `Nothing was collected${under}, ${asOfWords()}: there is nothing whose retention could run out.`;
    case 'transfers':
      return `No personal data left the EEA${under}, ${asOfWords()}.`;
    case 'flows':
      return `No personal data was disclosed to a recipient${under}, ${asOfWords()}.`;
    case 'inventory':
      return `No personal data was collected${under}, ${asOfWords()}.`;
    case 'traffic':
      return `No system sent traces of its outgoing calls${under}, ${asOfWords()}; services report them over OpenTelemetry.`;
  }
  return `Nothing${under}, ${asOfWords()}.`;
}

// declared shows, on the retention page, the other meaning of retention:
// where the retention a system's collections carry is longer than the one
// its activity declares (drift's retention_exceeded), under the page's
// system and category filters.
function declared(findings) {
  const box = document.getElementById('declared');
  if (!box) return;
  const system = param('system');
  const category = param('category');
  const rows = findings.filter((f) => {
    if (f.kind !== 'retention_exceeded') return false;
    const [sys, cat] = f.subject.split(': ');
    return (!system || sys === system) && (!category || cat === category || cat.startsWith(category + '.'));
  });
  const body = box.tBodies[0];
  body.replaceChildren();
  for (const f of rows) {
    const tr = el('tr', null, { class: 'sev-' + f.severity });
    tr.append(el('td', f.severity, { class: 'severity' }), aboutCell(f.subject), el('td', f.activity || ''),
      el('td', f.message, { class: 'long' }), el('td', f.action, { class: 'long' }));
    body.append(tr);
  }
  const registry = box.dataset.registry;
  const count = document.getElementById('declared-count');
  if (rows.length) {
    count.textContent = `${plural(rows.length, 'holding')} kept longer than the registry ${registry} declares, ${asOfWords()}.`;
  } else {
    const under = system || category ? ' under these filters' : '';
    count.textContent = `No retention is longer than declared: compared the retention of ${plural(state.rows.length, 'holding')}${under} ` +
      `(a system and a category each) with what the registry ${registry} declares, ${asOfWords()}.`;
  }
  box.hidden = rows.length === 0;
}

// driftFindings are the drift findings, when the server has a registry;
// a page still shows its own answer without them.
async function driftFindings() {
  if (table().dataset.drift !== 'true') return [];
  const p = new URLSearchParams();
  if (param('as_of')) p.set('as_of', param('as_of'));
  try {
    return (await api('/api/v1/drift', p)).items;
  } catch {
    return [];
  }
}

async function load() {
  setState('loading');
  const params = filterParams();
  params.set('limit', String(LIMIT));
  try {
    const [page, findings] = await Promise.all([api('/api/v1/' + state.question, params), driftFindings(), glossary()]);
    state.rows = page.items;
    state.total = page.total;
    state.findings = page.findings;
    state.notes = notesFor(state.rows, findings);
    state.shown = shownColumns(state.rows);
    if (page.countries_as_of) {
      const note = document.getElementById('countries-asof');
      note.textContent = `EEA membership and adequacy decisions as of ${page.countries_as_of}.`;
      note.title = page.countries_source;
    }
    for (const r of state.rows) setFirstDay(r.first_seen || r.oldest_held);
    state.page = 0;
    view();
    render();
    showError(null);
    if (state.question === 'retention') declared(findings);
    setState('ready');
  } catch (err) {
    state.rows = [];
    state.shown = shownColumns([]);
    view();
    render();
    showError(err);
  }
}

export function initTable() {
  const t = table();
  state.question = t.dataset.question;
  state.columns = [...t.tHead.rows[0].cells].map((th) => ({ name: th.dataset.col, kind: th.dataset.kind, label: th.textContent.trim() }));
  state.shown = shownColumns([]);
  document.getElementById('page-size').addEventListener('change', (e) => {
    state.size = Number(e.target.value);
    state.page = 0;
    render();
  });
  document.getElementById('prev').addEventListener('click', () => { state.page--; render(); });
  document.getElementById('next').addEventListener('click', () => { state.page++; render(); });
  document.getElementById('dl-csv').addEventListener('click', () => {
    download(`${state.question}-${stamp()}.csv`, 'text/csv', toCSV(state.columns, state.view));
  });
  document.getElementById('dl-json').addEventListener('click', () => {
    download(`${state.question}-${stamp()}.json`, 'application/json', JSON.stringify(state.view, null, 2) + '\n');
  });
  const only = document.getElementById('only-findings');
  if (only) only.addEventListener('change', () => { state.page = 0; view(); render(); });
  window.addEventListener('datamap:filters', load);
  load();
}
