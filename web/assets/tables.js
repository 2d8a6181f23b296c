// The table pages — inventory, flows, transfers, retention: the API's
// answer under the page's filters, sortable and paged, each system and
// recipient linking to its node on the map, downloadable as CSV (the CLI's
// columns and cells) or JSON, exactly as sorted and filtered.
import {
  api, cell, countryStatus, download, el, fmt, filterParams, glossary, mapLink, setFirstDay, setState, shown, showError,
  stamp, toCSV,
} from './common.js';

const LIMIT = 10000; // the API's largest page

const table = () => document.getElementById('table');

const state = {
  question: '', columns: [], rows: [], view: [], total: 0,
  sort: null, dir: 1, page: 0, size: 50,
};

// arrange puts a page's rows in its natural order: transfers grouped by
// country with findings first, retention past-retention only, oldest first.
function arrange(rows) {
  if (state.question === 'transfers') {
    const byCountry = new Map();
    for (const r of rows) {
      if (!byCountry.has(r.country)) byCountry.set(r.country, []);
      byCountry.get(r.country).push(r);
    }
    const groups = [...byCountry.entries()].map(([country, rs]) => ({
      country, rows: rs.sort((a, b) => Number(!a.finding) - Number(!b.finding)),
      findings: rs.filter((r) => r.finding).length,
    }));
    groups.sort((a, b) => (b.findings > 0) - (a.findings > 0) || a.country.localeCompare(b.country));
    return groups.flatMap((g) => g.rows);
  }
  if (state.question === 'retention' && document.getElementById('only-findings').checked) {
    return rows.filter((r) => r.finding)
      .sort((a, b) => (Date.parse(a.oldest_held) || Infinity) - (Date.parse(b.oldest_held) || Infinity));
  }
  return rows;
}

function compare(a, b, col) {
  const x = a[col.name];
  const y = b[col.name];
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
    const col = state.columns.find((c) => c.name === state.sort);
    rows.sort((a, b) => state.dir * compare(a, b, col));
  }
  state.view = rows;
}

const linked = new Set(['system', 'recipient']);
const long = new Set(['finding', 'message', 'reason']);

function render() {
  const tbody = table().tBodies[0];
  tbody.replaceChildren();
  const start = state.page * state.size;
  const rows = state.view.slice(start, start + state.size);
  let group = null;
  for (const r of rows) {
    if (state.question === 'transfers' && !state.sort && r.country !== group) {
      group = r.country;
      const members = state.view.filter((x) => x.country === group);
      const findings = members.filter((x) => x.finding).length;
      const head = el('tr', null, { class: 'group' + (findings ? ' has-finding' : '') });
      head.append(el('th', `${r.country} — ${r.country_name} · ${countryStatus(r.country)} · ${members.length} flows` +
        (findings ? ` · ${findings} finding${findings > 1 ? 's' : ''}` : ''), { colspan: String(state.columns.length), scope: 'colgroup' }));
      tbody.append(head);
    }
    const tr = el('tr', null, r.finding ? { class: 'finding' } : {});
    for (const c of state.columns) {
      const { text, title } = shown(r, c);
      const td = el('td', null, { class: c.kind === 'number' ? 'num' : c.kind === 'time' ? 'time' : long.has(c.name) ? 'long' : '' });
      if (title) td.title = title;
      if (linked.has(c.name) && text) {
        td.append(el('a', text, { href: mapLink(text), title: 'show ' + text + ' on the map' }));
      } else {
        td.textContent = text;
      }
      tr.append(td);
    }
    tbody.append(tr);
  }
  const pages = Math.max(1, Math.ceil(state.view.length / state.size));
  document.getElementById('pageinfo').textContent = `page ${state.page + 1} of ${pages}`;
  document.getElementById('prev').disabled = state.page === 0;
  document.getElementById('next').disabled = state.page >= pages - 1;
  const more = state.total > state.rows.length ? ` (the first ${state.rows.length} of ${state.total})` : '';
  const records = state.view.reduce((n, r) => n + (r.records || r.held_records || 0), 0);
  document.getElementById('count').textContent = `${state.view.length} rows${more}, ${fmt(records)} records` +
    (state.findings !== undefined ? `, ${state.findings} findings` : '');
  for (const th of table().tHead.rows[0].cells) {
    th.setAttribute('aria-sort', th.dataset.col === state.sort ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
}

async function load() {
  setState('loading');
  const params = filterParams();
  params.set('limit', String(LIMIT));
  try {
    const [page] = await Promise.all([api('/api/v1/' + state.question, params), glossary()]);
    state.rows = page.items;
    state.total = page.total;
    state.findings = page.findings;
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
    setState('ready');
  } catch (err) {
    state.rows = [];
    view();
    render();
    showError(err);
  }
}

export function initTable() {
  const t = table();
  state.question = t.dataset.question;
  state.columns = [...t.tHead.rows[0].cells].map((th) => ({ name: th.dataset.col, kind: th.dataset.kind }));
  for (const th of t.tHead.rows[0].cells) {
    th.querySelector('button').addEventListener('click', () => {
      state.dir = state.sort === th.dataset.col ? -state.dir : 1;
      state.sort = th.dataset.col;
      view();
      render();
    });
  }
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
