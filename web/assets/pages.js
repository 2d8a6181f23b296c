// The drift, Article 30 and dead-letter pages.
import { aboutCell, api, cell, el, filterParams, glossary, param, plural, setState, showError } from './common.js';

const SEVERITY = { high: 3, medium: 2, low: 1 };

export async function initDrift() {
  const table = document.getElementById('drift');
  if (!table) { setState('ready'); return; }
  const load = async () => {
    setState('loading');
    try {
      const [a] = await Promise.all([api('/api/v1/drift', filterParams()), glossary()]);
      const rows = a.items.slice().sort((x, y) => SEVERITY[y.severity] - SEVERITY[x.severity]);
      const body = table.tBodies[0];
      body.replaceChildren();
      for (const f of rows) {
        const tr = el('tr', null, { class: 'sev-' + f.severity });
        // Findings drawn from traces count calls, the others events.
        const ev = f.evidence ? (f.evidence.spans ? plural(f.evidence.spans, 'call') : plural(f.evidence.events, 'event')) : '';
        const action = el('td', f.action, { class: 'long' });
        if (f.proposal) action.append(el('pre', f.proposal, { class: 'proposal' }));
        tr.append(el('td', f.severity, { class: 'severity' }), el('td', f.kind.replaceAll('_', ' ')), el('td', f.activity || ''),
          aboutCell(f.subject), el('td', ev, { class: 'num' }), el('td', f.message, { class: 'long' }), action);
        body.append(tr);
      }
      table.hidden = rows.length === 0;
      const by = (s) => rows.filter((f) => f.severity === s).length;
      document.getElementById('count').textContent = rows.length
        ? `${plural(rows.length, 'finding')} as of ${cell(a.as_of, 'time')}: ${by('high')} high, ${by('medium')} medium, ${by('low')} low`
        : 'No drift: the processing observed matches the registry.';
      showError(null);
      setState('ready');
    } catch (err) { showError(err); }
  };
  window.addEventListener('datamap:filters', load);
  await load();
}

export async function initRecord() {
  const box = document.getElementById('record');
  if (!box) { setState('ready'); return; }
  const role = document.getElementById('role');
  role.value = param('role') || 'all';
  const load = async () => {
    setState('loading');
    const p = filterParams();
    p.set('role', role.value);
    for (const f of ['xlsx', 'html', 'pdf', 'json']) {
      const a = document.getElementById('dl-' + f);
      if (!a) continue;
      const q = new URLSearchParams(p);
      q.set('format', f);
      a.href = '/api/v1/article30?' + q;
    }
    try {
      const q = new URLSearchParams(p);
      q.set('format', 'json');
      const rec = await api('/api/v1/article30', q);
      const s = rec.summary;
      const sev = s.findings_by_severity || {};
      box.replaceChildren();
      const add = (k, v, attrs) => { box.append(el('dt', k), el('dd', v, attrs)); };
      add('As of', cell(rec.as_of, 'time'));
      add('Controller', rec.controller && rec.controller.name ? rec.controller.name : '');
      add('Activities', String(s.activities));
      const num = (n) => n.toLocaleString('en');
      add('Observed', `${plural(s.observed_events, 'event', 'events', num)}, ${plural(s.observed_records, 'record', 'records', num)}`);
      add('Undeclared', plural(s.undeclared_events, 'event', 'events', num));
      add('Findings', `${sev.high || 0} high, ${sev.medium || 0} medium, ${sev.low || 0} low`);
      add('Content SHA-256', rec.content_sha256, { id: 'sha256', class: 'hash' });
      showError(null);
      setState('ready');
    } catch (err) { showError(err); }
  };
  role.addEventListener('change', load);
  window.addEventListener('datamap:filters', load);
  await load();
}

export async function initDeadLetters() {
  const table = document.getElementById('letters');
  const replayed = param('replayed');
  if (replayed) {
    document.getElementById('replay-result').textContent = `Replayed ${replayed}; ${param('missing') || 0} already gone. A replayed event that fails again comes back under a new ID.`;
  }
  const writer = Boolean(document.getElementById('replay'));
  setState('loading');
  try {
    const a = await api('/api/v1/deadletters', new URLSearchParams({ limit: '100' }));
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const l of a.items) {
      const tr = el('tr');
      if (writer) {
        const td = el('td');
        td.append(el('input', null, { type: 'checkbox', name: 'ids', value: String(l.id), 'aria-label': 'replay ' + l.id }));
        tr.append(td);
      }
      tr.append(el('td', String(l.id), { class: 'num' }), el('td', cell(l.failed_at, 'time')), el('td', l.subject), el('td', l.source),
        el('td', l.event_id), el('td', String(l.deliveries), { class: 'num' }), el('td', l.reason));
      body.append(tr);
    }
    document.getElementById('count').textContent = a.total === 0
      ? 'No dead letters: every event published was stored.'
      : `${plural(a.total, 'dead letter')}; the latest ${a.items.length} below.`;
    table.hidden = a.items.length === 0;
    if (writer) document.getElementById('replay').disabled = a.items.length === 0;
    setState('ready');
  } catch (err) { showError(err); }
}
