// The map: the lineage graph (GET /api/v1/lineage/export?format=json) laid
// out left to right with dagre, its transfers marked from GET
// /api/v1/transfers (the same findings as `datamap transfers`), a panel per
// node, and the reach and blast-radius answers of `datamap lineage`
// highlighted on it. Calls the traces show and no event reports (GET
// /api/v1/traffic) are drawn dashed, apart from the reported flows.
import cytoscape from './vendor/cytoscape.esm.min.js';
import dagre from './vendor/cytoscape-dagre.min.js';
import {
  api, el, filterParams, fmt, param, setFirstDay, setParam, setState, showError, cell,
} from './common.js';

cytoscape.use(dagre);

// Past this many nodes the map starts grouped by country, groups collapsed.
const LARGE = 80;

const ROLES = ['processor', 'sub_processor', 'controller', 'joint_controller', 'authority'];

const style = [
  { selector: 'node', style: {
    label: 'data(label)', 'text-valign': 'center', 'text-halign': 'center', 'font-size': 12, color: '#111827', 'min-zoomed-font-size': 6,
    'font-family': 'system-ui, sans-serif', width: 'data(w)', height: 30, shape: 'round-rectangle',
    'background-color': '#e5e7eb', 'border-width': 1.5, 'border-color': '#4b5563',
  } },
  { selector: 'node.system', style: { 'background-color': '#dbeafe', 'border-color': '#1d4ed8' } },
  { selector: 'node.processor', style: { shape: 'ellipse', 'background-color': '#dcfce7', 'border-color': '#15803d', height: 36 } },
  { selector: 'node.sub_processor', style: { shape: 'ellipse', 'background-color': '#ecfccb', 'border-color': '#4d7c0f', 'border-style': 'dashed', height: 36 } },
  { selector: 'node.controller, node.joint_controller', style: { shape: 'hexagon', 'background-color': '#fef3c7', 'border-color': '#b45309', height: 38 } },
  { selector: 'node.joint_controller', style: { 'border-style': 'dashed' } },
  { selector: 'node.authority', style: { shape: 'octagon', 'background-color': '#f3e8ff', 'border-color': '#7e22ce', height: 38 } },
  { selector: 'node.instrumented', style: { 'border-width': 4, 'border-style': 'double' } },
  { selector: 'node.group', style: { shape: 'round-rectangle', 'background-color': '#f1f5f9', 'border-style': 'dotted', 'border-width': 2 } },
  { selector: ':parent', style: {
    'text-valign': 'top', 'text-halign': 'center', 'background-color': '#f8fafc', 'background-opacity': 0.6,
    'border-style': 'dashed', 'border-color': '#94a3b8', 'font-size': 13, 'font-weight': 'bold', padding: 12,
  } },
  { selector: 'edge', style: {
    'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9, width: 'data(w)',
    'line-color': '#64748b', 'target-arrow-color': '#64748b', label: 'data(label)', 'font-size': 10,
    color: '#1f2937', 'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': 2,
    'min-zoomed-font-size': 9, 'text-wrap': 'wrap',
  } },
  { selector: 'edge.quiet', style: { label: '' } },
  { selector: 'edge.quiet.hl, edge.quiet:selected', style: { label: 'data(label)' } },
  { selector: 'edge.transfer', style: { 'line-color': '#2563eb', 'target-arrow-color': '#2563eb' } },
  { selector: 'edge.finding', style: { 'line-color': '#b91c1c', 'target-arrow-color': '#b91c1c', 'line-style': 'dashed', color: '#991b1b', 'font-weight': 'bold' } },
  { selector: 'edge.traffic', style: { 'line-style': 'dashed', 'line-color': '#7c3aed', 'target-arrow-color': '#7c3aed', color: '#5b21b6' } },
  { selector: 'node.traffic-only', style: { 'border-style': 'dashed', 'border-color': '#7c3aed' } },
  { selector: '.faded', style: { opacity: 0.18 } },
  { selector: 'node.hl', style: { 'border-color': '#d97706', 'border-width': 5, opacity: 1 } },
  { selector: 'edge.hl', style: { 'line-color': '#d97706', 'target-arrow-color': '#d97706', width: 5, opacity: 1, 'z-index': 10 } },
  { selector: 'node:selected', style: { 'overlay-color': '#111827', 'overlay-opacity': 0.15, 'border-color': '#111827', 'border-width': 4 } },
];

const map = {
  cy: null,
  graph: null, // the API's lineage graph
  transfers: new Map(), // "system\0recipient" → {safeguards, countries, finding}
  traffic: [], // external destinations the traces show and no event reports
  group: '',
  collapsed: new Set(),
  highlighted: new Set(),
  placed: null, // the last layout: {group, collapsed, positions by node id, edge ids}
  layouts: 0, // how many layouts ran, shown on #graph for the tests
  loads: 0, // how many times the graph was asked for
};

const graphEl = () => document.getElementById('graph');

function nodeClass(n) {
  const c = [];
  if (n.recipient) c.push(ROLES.includes(n.role) ? n.role : 'processor'); else c.push('system');
  if (n.system && n.recipient) c.push('instrumented');
  if (n.traffic_only) c.push('traffic-only');
  return c.join(' ');
}

function groupOf(n) {
  if (!map.group) return '';
  if (!n.recipient) return 'Systems';
  return map.group === 'role' ? (n.role || 'recipient').replace('_', '-') + 's' : (n.country || 'unknown country');
}

// elements turns the graph into Cytoscape elements: one edge per pair of
// nodes (its categories, events and records summed), groups as compound
// nodes, collapsed groups as one node.
function elements() {
  const g = map.graph;
  const els = [];
  const shown = new Map(); // node name → element id it is drawn as
  const groups = new Map();
  for (const n of g.nodes) {
    const grp = groupOf(n);
    if (grp) groups.set(grp, (groups.get(grp) || 0) + 1);
  }
  for (const [grp, count] of groups) {
    const id = 'group:' + grp;
    const label = `${grp} (${count})`;
    els.push({ data: { id, label, w: 10 * label.length + 30, group: grp, count }, classes: 'group' + (map.collapsed.has(grp) ? '' : ' open') });
  }
  for (const n of g.nodes) {
    const grp = groupOf(n);
    if (grp && map.collapsed.has(grp)) {
      shown.set(n.name, 'group:' + grp);
      continue;
    }
    shown.set(n.name, n.name);
    const data = { id: n.name, label: n.name, w: 7.2 * n.name.length + 28, node: n };
    if (grp) data.parent = 'group:' + grp;
    els.push({ data, classes: nodeClass(n) });
  }
  // Open groups are parents, not nodes of their own.
  for (const e of els) {
    if (e.classes && e.classes.includes(' open')) e.classes = 'parent-group';
  }
  const pairs = new Map();
  for (const e of g.edges) {
    const from = shown.get(e.from);
    const to = shown.get(e.to);
    if (from === to) continue;
    const key = from + '\u0000' + to;
    let p = pairs.get(key);
    if (!p) {
      p = { id: 'e:' + key, source: from, target: to, categories: new Set(), events: 0, records: 0, safeguards: new Set(), countries: new Set(), transfer: false, finding: false, edges: [] };
      pairs.set(key, p);
    }
    p.categories.add(e.category);
    p.events += e.events;
    p.records += e.records;
    p.edges.push(e);
    const t = map.transfers.get(e.from + '\u0000' + e.to);
    if (t) {
      p.transfer = true;
      p.finding = p.finding || t.finding;
      t.safeguards.forEach((s) => p.safeguards.add(s));
      t.countries.forEach((c) => p.countries.add(c));
    }
  }
  // Calls only traffic shows: one dashed edge per pair, its calls summed.
  const calls = new Map();
  for (const r of map.traffic) {
    const from = shown.get(r.system);
    const to = shown.get(trafficTarget(r));
    if (!from || !to || from === to) continue;
    const key = from + '\u0000' + to;
    let c = calls.get(key);
    if (!c) { c = { id: 't:' + key, source: from, target: to, spans: 0, rows: [] }; calls.set(key, c); }
    c.spans += r.spans;
    c.rows.push(r);
  }
  for (const c of calls.values()) {
    els.push({
      data: { id: c.id, source: c.source, target: c.target, label: `${fmt(c.spans)} calls · traffic only`, w: 1.5, traffic: c.rows },
      classes: 'traffic' + (pairs.size + calls.size > EDGE_LABELS ? ' quiet' : ''),
    });
  }
  for (const p of pairs.values()) {
    const cats = [...p.categories].sort();
    let label = (cats.length === 1 ? cats[0] : `${cats.length} categories`) + `\n${fmt(p.events)} events · ${fmt(p.records)} records`;
    if (p.transfer) {
      const sg = [...p.safeguards].map((s) => s || 'none').join(', ');
      label += `\n${[...p.countries].join(', ')} · ${p.finding ? '⚠ no safeguard' : sg}`;
    }
    els.push({
      data: { id: p.id, source: p.source, target: p.target, label, w: Math.min(8, 1 + Math.log10(1 + p.records)), categories: cats, edges: p.edges },
      classes: (p.transfer ? 'transfer' : '') + (p.finding ? ' finding' : '') + (pairs.size > EDGE_LABELS ? ' quiet' : ''),
    });
  }
  return els;
}

// Past this many nodes, dagre ranks with a tight tree instead of network
// simplex: the simplex ranker is the slowest part of a large layout, and
// measured at 300 nodes in the browser the tight tree took about a fifth
// of its time with the same ranks and crossings (longest path, tried
// before, was slower than the tight tree and crossed more edges).
const QUICK_RANKING = 120;

// Past this many edges, edge labels show only on highlighted or selected
// edges: measuring and drawing hundreds of labels costs more than the
// layout, and they would overlap anyway.
const EDGE_LABELS = 80;

function layout(ranker) {
  const t0 = performance.now();
  const n = map.cy.nodes().length;
  map.cy.layout({
    name: 'dagre', rankDir: 'LR', nodeSep: 16, rankSep: 260, edgeSep: 8, padding: 16, animate: false, fit: true,
    ranker: ranker || (n > QUICK_RANKING ? 'tight-tree' : 'network-simplex'),
  }).run();
  const positions = new Map();
  map.cy.nodes().forEach((node) => { positions.set(node.id(), { ...node.position() }); });
  map.placed = { group: map.group, collapsed: new Set(map.collapsed), positions, edges: new Set(map.cy.edges().map((e) => e.id())) };
  map.layouts++;
  graphEl().dataset.layouts = String(map.layouts);
  return performance.now() - t0;
}

// placedBefore says whether the last layout already placed every element:
// true when a filter or an as-of date only takes nodes and flows away, or
// gives back ones it took, so their places can be kept as they were. A
// place laid out under another grouping, or with a group collapsed that is
// now open (or the reverse), means nothing here.
function placedBefore(els) {
  const p = map.placed;
  if (!p || p.group !== map.group) return false;
  return els.every((e) => {
    if (e.data.source) return p.edges.has(e.data.id);
    if (e.data.group !== undefined && p.collapsed.has(e.data.group) !== map.collapsed.has(e.data.group)) return false;
    return p.positions.has(e.data.id);
  });
}

// draw shows the graph's elements. When the last layout placed them all,
// the elements keep their places and only their data and styles change:
// a filter or as-of change then costs no layout and nothing moves under
// the reader's eyes. Otherwise the whole graph is laid out anew.
function draw() {
  const cy = map.cy;
  const els = elements();
  if (placedBefore(els)) {
    const keep = new Set(els.map((e) => e.data.id));
    cy.batch(() => {
      cy.elements().filter((e) => !keep.has(e.id())).remove();
      // Nodes first, so that every edge finds its ends.
      for (const e of els.filter((x) => !x.data.source).concat(els.filter((x) => x.data.source))) {
        const have = cy.$id(e.data.id);
        if (have.empty()) {
          const add = { group: e.data.source ? 'edges' : 'nodes', data: e.data, classes: e.classes };
          if (!e.data.source) add.position = { ...map.placed.positions.get(e.data.id) };
          cy.add(add);
        } else {
          // An element's id, ends and group are what made it the same.
          const { id, source, target, parent, ...rest } = e.data;
          have.data(rest);
          have.classes(e.classes || '');
        }
      }
    });
    cy.fit(undefined, 16);
  } else {
    cy.batch(() => {
      cy.elements().remove();
      cy.add(els);
    });
    layout();
  }
  listNodes();
  fillPickers();
  const nodes = map.graph.nodes.length;
  const findings = cy.edges('.finding').length;
  document.getElementById('summary').textContent = nodes === 0
    ? 'Nothing observed under these filters.'
    : `${nodes} nodes, ${map.graph.edges.length} flows` + (findings ? `; ${findings} transfers without a needed safeguard (dashed red)` : '') +
      (param('as_of') ? ` — as of ${param('as_of')}` : '');
}

// listNodes is the keyboard and screen-reader way through the graph.
function listNodes() {
  const list = document.getElementById('node-list');
  list.replaceChildren();
  const nodes = map.cy.nodes().filter((n) => !n.isParent()).sort((a, b) => a.id().localeCompare(b.id()));
  nodes.forEach((n) => {
    const d = n.data();
    const li = el('li');
    const desc = d.node ? [d.node.system && d.node.recipient ? 'instrumented ' + d.node.role : d.node.recipient ? d.node.role : 'system', d.node.country].filter(Boolean).join(', ') : 'group, collapsed';
    const b = el('button', d.label, { type: 'button', 'data-node': d.id });
    b.append(el('span', ' ' + desc.replace('_', '-'), { class: 'desc' }));
    b.addEventListener('click', () => select(d.id));
    li.append(b);
    list.append(li);
  });
  map.cy.nodes('.parent-group').forEach((g) => {
    const li = el('li');
    const b = el('button', 'collapse ' + g.data('label'), { type: 'button', 'data-group': g.data('group') });
    b.addEventListener('click', () => toggleGroup(g.data('group')));
    li.append(b);
    list.append(li);
  });
  markList();
}

function markList() {
  document.querySelectorAll('#node-list [data-node]').forEach((b) => {
    b.classList.toggle('hl', map.highlighted.has(b.dataset.node));
    b.setAttribute('aria-pressed', String(map.cy.$id(b.dataset.node).selected()));
  });
}

function toggleGroup(grp) {
  if (map.collapsed.has(grp)) map.collapsed.delete(grp); else map.collapsed.add(grp);
  draw();
  setState('ready');
}

function fillPickers() {
  const fill = (id, names) => {
    const s = document.getElementById(id);
    const keep = s.value;
    s.replaceChildren(s.options[0]);
    for (const n of names) s.add(new Option(n, n));
    if (names.includes(keep)) s.value = keep;
  };
  fill('reach-from', map.graph.nodes.filter((n) => n.system).map((n) => n.name));
  fill('blast-recipient', map.graph.nodes.filter((n) => n.recipient).map((n) => n.name));
}

// highlight marks nodes and the edges between consecutive nodes of paths.
function highlight(nodes, paths) {
  const cy = map.cy;
  map.highlighted = new Set(nodes);
  cy.batch(() => {
    cy.elements().removeClass('hl faded');
    if (!nodes.length) return;
    cy.elements().addClass('faded');
    for (const name of nodes) cy.$id(name).removeClass('faded').addClass('hl');
    for (const path of paths) {
      for (let i = 0; i + 1 < path.length; i++) {
        cy.$id('e:' + path[i] + '\u0000' + path[i + 1]).removeClass('faded').addClass('hl');
      }
    }
  });
  markList();
}

function asOfParams(extra) {
  const p = new URLSearchParams(extra);
  const asOf = filterParams().get('as_of');
  if (asOf) p.set('as_of', asOf);
  return p;
}

async function showReach() {
  const from = document.getElementById('reach-from').value;
  const category = document.getElementById('reach-category').value;
  if (!from || !category) {
    document.getElementById('summary').textContent = 'Pick a system and a category to see where that data can end up.';
    return;
  }
  setState('loading');
  try {
    const page = await api('/api/v1/lineage/reach', asOfParams({ from, category, limit: '10000' }));
    const rows = page.items;
    highlight([from, ...rows.map((r) => r.node)], rows.map((r) => r.path));
    const hops = rows.reduce((m, r) => Math.max(m, r.hops), 0);
    document.getElementById('summary').textContent = `Reach of ${category} from ${from}: ${new Set(rows.map((r) => r.node)).size} places, up to ${hops} hops (as datamap lineage reach).`;
    setState('ready');
  } catch (err) { showError(err); }
}

async function showBlast() {
  const recipient = document.getElementById('blast-recipient').value;
  if (!recipient) {
    document.getElementById('summary').textContent = 'Pick a recipient to see what a breach there exposes.';
    return;
  }
  setState('loading');
  try {
    const b = await api('/api/v1/lineage/blast', asOfParams({ recipient }));
    const paths = b.systems.map((s) => [s, recipient]).concat(b.passed_on.map((r) => r.path));
    highlight([recipient, ...b.systems, ...b.passed_on.map((r) => r.node)], paths);
    document.getElementById('summary').textContent = `A breach of ${recipient} exposes ${b.categories.length} categories about ${b.data_subjects.join(', ')}, from ${b.systems.join(', ')}. ${b.summary}`;
    setState('ready');
  } catch (err) { showError(err); }
}

// select opens a node's panel.
async function select(name) {
  const cy = map.cy;
  const n = cy.$id(name);
  if (n.empty()) return;
  cy.nodes().unselect();
  n.select();
  setParam('node', name);
  markList();
  const d = n.data();
  if (!d.node) {
    toggleGroup(d.group);
    return;
  }
  await panel(d.node);
}

function rowsTable(caption, columns, rows, more) {
  const t = el('table', null, { class: 'mini' });
  t.append(el('caption', caption));
  const head = el('tr');
  for (const [label] of columns) head.append(el('th', label, { scope: 'col' }));
  const thead = el('thead');
  thead.append(head);
  t.append(thead);
  const body = el('tbody');
  for (const r of rows.slice(0, 15)) {
    const tr = el('tr', null, r.finding ? { class: 'finding' } : {});
    for (const [, key, kind] of columns) {
      tr.append(el('td', kind === 'date' ? cell(r[key], 'time').slice(0, 10) : cell(r[key], kind), kind === 'date' ? { class: 'time' } : {}));
    }
    body.append(tr);
  }
  t.append(body);
  const wrap = el('div', null, { class: 'table-wrap' });
  wrap.append(t);
  if (more) {
    const p = el('p');
    p.append(el('a', rows.length > 15 ? `all ${rows.length} rows` : 'the evidence rows', { href: more }));
    wrap.append(p);
  }
  return wrap;
}

// questionParams are the filters of the page that a question takes.
function questionParams(kind, extra) {
  const allowed = (graphEl().dataset[kind + 'Params'] || '').split(',');
  const p = new URLSearchParams();
  for (const [k, v] of filterParams()) if (allowed.includes(k) && k !== 'system' && k !== 'recipient') p.set(k, v);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p;
}

// trafficTarget is the node a destination is drawn as: its recipient, or
// its host when nobody knows it.
function trafficTarget(r) { return r.recipient || r.host; }

// addTraffic keeps the external destinations no event reports, and adds a
// node for each system and destination the lineage graph lacks.
function addTraffic(rows) {
  map.traffic = rows.filter((r) => r.class !== 'internal' && !r.reported);
  const names = new Set(map.graph.nodes.map((n) => n.name));
  for (const r of map.traffic) {
    if (!names.has(r.system)) {
      map.graph.nodes.push({ name: r.system, system: true, traffic_only: true });
      names.add(r.system);
    }
    const to = trafficTarget(r);
    if (!names.has(to)) {
      map.graph.nodes.push({ name: to, recipient: true, role: 'processor', country: r.country, traffic_only: true });
      names.add(to);
    }
  }
}

async function panel(node) {
  setState('loading');
  const box = document.getElementById('panel');
  box.replaceChildren(el('h2', node.name));
  const what = node.system && node.recipient ? `instrumented ${node.role}` : node.recipient ? node.role : 'system';
  box.append(el('p', [what.replace('_', '-'), node.country].filter(Boolean).join(' · '), { class: 'role' }));
  const inTransfers = [...map.transfers.entries()].filter(([k]) => k.split('\u0000')[1] === node.name).map(([, t]) => t);
  if (inTransfers.some((t) => t.finding)) box.append(el('p', '⚠ receives data outside the EEA without a needed safeguard', { class: 'finding-note' }));
  try {
    const asks = [];
    const flowCols = [['to', 'recipient'], ['category', 'category'], ['country', 'country'], ['safeguard', 'safeguard'], ['records', 'records'], ['first seen', 'first_seen', 'date'], ['last seen', 'last_seen', 'date']];
    if (node.system) {
      const p = questionParams('inventory', { system: node.name, limit: '500' });
      asks.push(api('/api/v1/inventory', p).then((a) => rowsTable('Holds', [['category', 'category'], ['subject', 'data_subject'], ['purpose', 'purpose'], ['retention', 'retention'], ['records', 'records'], ['first seen', 'first_seen', 'date'], ['last seen', 'last_seen', 'date']], a.items, '/inventory?' + p.toString().replace(/&?limit=\d+/, ''))));
      const f = questionParams('flow', { system: node.name, limit: '500' });
      asks.push(api('/api/v1/flows', f).then((a) => rowsTable('Sent', flowCols, a.items, '/flows?' + f.toString().replace(/&?limit=\d+/, ''))));
    }
    if (node.recipient) {
      const f = questionParams('flow', { recipient: node.name, limit: '500' });
      asks.push(api('/api/v1/flows', f).then((a) => rowsTable('Received', [['from', 'system'], ...flowCols.slice(1)], a.items, '/flows?' + f.toString().replace(/&?limit=\d+/, ''))));
    }
    for (const part of await Promise.all(asks)) box.append(part);
    const seen = map.traffic.filter((r) => r.system === node.name || trafficTarget(r) === node.name);
    if (seen.length) {
      box.append(rowsTable('Calls seen in traces, no shared event reported', [['from', 'system'], ['host', 'host'], ['class', 'class'],
        ['declared', 'declared'], ['calls', 'spans'], ['first seen', 'first_seen', 'date'], ['last seen', 'last_seen', 'date']], seen,
      '/traffic' + (node.system ? '?system=' + encodeURIComponent(node.name) : '')));
    }
    const actions = el('p', null, { class: 'actions' });
    if (node.system) {
      const b = el('button', 'Reach from here', { type: 'button' });
      b.addEventListener('click', () => { document.getElementById('reach-from').value = node.name; document.getElementById('reach-category').focus(); });
      actions.append(b);
    }
    if (node.recipient) {
      const b = el('button', 'Blast radius', { type: 'button' });
      b.addEventListener('click', () => { document.getElementById('blast-recipient').value = node.name; showBlast(); });
      actions.append(b);
    }
    box.append(actions);
    setState('ready');
  } catch (err) { showError(err); }
}

async function load() {
  // Only the latest change draws: moving the as-of slider fires several,
  // and an older answer arriving last must not replace the newer one.
  const seq = ++map.loads;
  setState('loading');
  const params = filterParams();
  try {
    const graphParams = new URLSearchParams(params);
    graphParams.set('format', 'json');
    const transferParams = new URLSearchParams(params);
    transferParams.set('limit', '10000');
    // Traffic knows systems, hosts and days, not categories or purposes:
    // it is drawn when the map is filtered by nothing else.
    const trafficParams = new URLSearchParams({ limit: '10000' });
    let withTraffic = true;
    for (const [k, v] of params) {
      if (k === 'as_of' || k === 'system') trafficParams.set(k, v); else withTraffic = false;
    }
    const [graph, transfers, traffic] = await Promise.all([
      api('/api/v1/lineage/export', graphParams),
      api('/api/v1/transfers', transferParams),
      // A map without traffic is still a map.
      withTraffic ? api('/api/v1/traffic', trafficParams).catch(() => ({ items: [] })) : { items: [] },
    ]);
    if (seq !== map.loads) return;
    map.graph = { nodes: graph.nodes || [], edges: graph.edges || [] };
    addTraffic(traffic.items || []);
    map.transfers = new Map();
    for (const r of transfers.items) {
      const key = r.system + '\u0000' + r.recipient;
      let t = map.transfers.get(key);
      if (!t) { t = { safeguards: new Set(), countries: new Set(), finding: false }; map.transfers.set(key, t); }
      t.safeguards.add(r.safeguard);
      t.countries.add(r.country);
      t.finding = t.finding || Boolean(r.finding);
    }
    for (const e of map.graph.edges) setFirstDay(e.first_seen);
    map.group = param('group') || (map.graph.nodes.length > LARGE ? 'country' : '');
    document.getElementById('group-by').value = map.group;
    map.collapsed = new Set();
    if (!param('group') && map.graph.nodes.length > LARGE) {
      for (const n of map.graph.nodes) if (n.recipient) map.collapsed.add(groupOf(n));
    }
    map.highlighted = new Set();
    draw();
    showError(null);
    const node = param('node');
    if (node && !map.cy.$id(node).empty()) {
      await select(node);
    } else {
      setState('ready');
    }
  } catch (err) {
    if (seq === map.loads) showError(err);
  }
}

export function initMap() {
  map.cy = cytoscape({
    container: graphEl(), style, wheelSensitivity: 0.3, minZoom: 0.1, maxZoom: 3, boxSelectionEnabled: false,
  });
  map.cy.on('tap', 'node', (e) => select(e.target.id()));
  document.getElementById('group-by').addEventListener('change', (e) => {
    map.group = e.target.value;
    map.collapsed = new Set();
    setParam('group', map.group);
    draw();
    setState('ready');
  });
  document.getElementById('reach-go').addEventListener('click', showReach);
  document.getElementById('blast-go').addEventListener('click', showBlast);
  document.getElementById('clear-highlight').addEventListener('click', () => {
    highlight([], []);
    document.getElementById('summary').textContent = '';
  });
  document.getElementById('fit').addEventListener('click', () => map.cy.fit(undefined, 16));
  window.addEventListener('datamap:filters', load);
  load();
}

// layoutBench lays out a generated graph of n nodes in the page's
// container and returns the milliseconds dagre took; the Go benchmarks
// call it through the browser to measure layout at scale, and may name
// a dagre ranker to compare with the one the map uses.
export function layoutBench(n, ranker) {
  generate(n);
  map.cy.batch(() => { map.cy.elements().remove(); map.cy.add(elements()); });
  return layout(ranker);
}

// nodePositions is where each node of the map is drawn, by id: the
// browser tests check that a filter change leaves them in place.
export function nodePositions() {
  const out = {};
  map.cy.nodes().forEach((node) => { out[node.id()] = node.position(); });
  return out;
}

// redrawBench draws a generated map of n nodes, then the same map with a
// third of its recipients filtered away, and returns the milliseconds the
// second draw took (the page's work of a filter change, without the API).
// With relayout it lays the smaller map out again, as every redraw did
// before positions were kept, to compare the two in the same page.
export function redrawBench(n, relayout) {
  generate(n);
  const all = map.graph;
  map.placed = null;
  draw();
  const gone = new Set(all.nodes.filter((x, i) => !x.system && i % 3 === 0).map((x) => x.name));
  map.graph = { nodes: all.nodes.filter((x) => !gone.has(x.name)), edges: all.edges.filter((e) => !gone.has(e.from) && !gone.has(e.to)) };
  if (relayout) map.placed = null;
  const t0 = performance.now();
  draw();
  return performance.now() - t0;
}

// layoutGeometry is what the layout tests check: every node's box and
// every edge's ends, after laying out a generated graph of n nodes.
export function layoutGeometry(n) {
  layoutBench(n);
  return {
    nodes: map.cy.nodes().map((node) => ({ id: node.id(), ...node.boundingBox({ includeLabels: false, includeOverlays: false }) })),
    edges: map.cy.edges().map((e) => ({ source: e.source().id(), target: e.target().id() })),
  };
}

// generate makes a map of n nodes shaped like a large inventory: a sixth
// of them systems, each recipient fed by one or two systems, some passing
// data on to a recipient of their own.
function generate(n) {
  const nodes = [];
  const edges = [];
  const systems = Math.max(1, Math.round(n / 6));
  for (let i = 0; i < n; i++) {
    const system = i < systems;
    const name = (system ? 'system-' : 'recipient-') + i;
    nodes.push({ name, system, recipient: !system || i % 7 === 0, role: ROLES[i % ROLES.length], country: ['US', 'DE', 'IN', 'IE', 'BR'][i % 5] });
  }
  for (let i = systems; i < n; i++) {
    for (const s of [i % systems, (i * 7) % systems]) {
      edges.push({ from: nodes[s].name, to: nodes[i].name, category: 'billing.invoice', events: 10 + i, records: 100 * i, first_seen: '2026-01-01T00:00:00Z' });
    }
    if (i > systems + 5 && i % 4 === 0) edges.push({ from: nodes[i - 5].name, to: nodes[i].name, category: 'support.tickets', events: 3, records: 30 });
  }
  map.graph = { nodes, edges };
  map.transfers = new Map();
  map.group = '';
  map.collapsed = new Set();
}
