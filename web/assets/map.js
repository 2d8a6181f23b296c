// The map: the lineage graph (GET /api/v1/lineage/export?format=json) laid
// out left to right with dagre, its transfers marked from GET
// /api/v1/transfers (the same findings as `datamap transfers`), a panel per
// node, and the reach and blast-radius answers of `datamap lineage`
// highlighted on it. Calls the traces show and no event reports (GET
// /api/v1/traffic) are drawn dashed, apart from the reported flows.
import cytoscape from './vendor/cytoscape.esm.min.js';
import dagre from './vendor/cytoscape-dagre.min.js';
import {
  api, el, filterParams, fmt, glossary, label as words, param, plural, setFirstDay, setParam, setState, shown, showError,
} from './common.js';

cytoscape.use(dagre);

const ROLES = ['processor', 'sub_processor', 'controller', 'joint_controller', 'authority'];

// Sizes, in the graph's units at zoom 1. A node is one line of text; a
// rank of nodes is a column of ROW-high rows.
const FONT = 12;
const NODE_H = 22;
const ROW = NODE_H + 6;
const PAD = 16;
// The smallest zoom at which the map is still read without zooming: below
// it, a map not grouped by hand is grouped (recipients by country, systems
// together) so that it fits. Labels are then drawn at FONT / zoom and still
// come out at ≥ 11 px.
const MIN_ZOOM = 0.8;
// The largest zoom of the initial fit: a small map is not blown up.
const MAX_FIT = 1.25;

const style = [
  { selector: 'node', style: {
    label: 'data(label)', 'text-valign': 'center', 'text-halign': 'center', 'font-size': 'data(fs)', color: '#111827',
    'font-family': 'system-ui, sans-serif', width: 'data(w)', height: NODE_H, shape: 'round-rectangle',
    'background-color': '#e5e7eb', 'border-width': 1.5, 'border-color': '#4b5563',
  } },
  { selector: 'node.system', style: { 'background-color': '#dbeafe', 'border-color': '#1d4ed8' } },
  { selector: 'node.processor', style: { shape: 'ellipse', 'background-color': '#dcfce7', 'border-color': '#15803d' } },
  { selector: 'node.sub_processor', style: { shape: 'ellipse', 'background-color': '#ecfccb', 'border-color': '#4d7c0f', 'border-style': 'dashed' } },
  { selector: 'node.controller, node.joint_controller', style: { shape: 'hexagon', 'background-color': '#fef3c7', 'border-color': '#b45309' } },
  { selector: 'node.joint_controller', style: { 'border-style': 'dashed' } },
  { selector: 'node.authority', style: { shape: 'octagon', 'background-color': '#f3e8ff', 'border-color': '#7e22ce' } },
  { selector: 'node.instrumented', style: { 'border-width': 4, 'border-style': 'double' } },
  { selector: 'node.group', style: { shape: 'round-rectangle', 'background-color': '#f1f5f9', 'border-style': 'dotted', 'border-width': 2, 'border-color': '#475569' } },
  { selector: ':parent', style: {
    'text-valign': 'top', 'text-halign': 'center', 'background-color': '#f8fafc', 'background-opacity': 0.6,
    'border-style': 'dashed', 'border-color': '#94a3b8', 'font-weight': 'bold', padding: 10,
  } },
  { selector: 'edge', style: {
    'curve-style': 'straight', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9, width: 'data(w)',
    'line-color': '#94a3b8', 'target-arrow-color': '#94a3b8', label: 'data(label)', 'font-size': 'data(fs)',
    'font-family': 'system-ui, sans-serif', color: '#1f2937', 'text-background-color': '#ffffff', 'text-background-opacity': 0.92,
    'text-background-padding': 2, 'text-background-shape': 'round-rectangle', 'text-wrap': 'wrap', 'text-rotation': 'none',
    'text-margin-x': 'data(mx)', 'text-margin-y': 'data(my)',
    // A label is a bigger target than its line: pointing at it or
    // selecting it is pointing at the flow.
    'text-events': 'yes',
  } },
  // A label with no room of its own, or one of too many, shows only when
  // its flow is highlighted or selected.
  { selector: 'edge.quiet, edge.crowded', style: { label: '' } },
  { selector: 'edge.quiet.hl, edge.quiet:selected, edge.crowded.hl, edge.crowded:selected', style: { label: 'data(label)', 'z-index': 20 } },
  { selector: 'edge.transfer', style: { 'line-color': '#2563eb', 'target-arrow-color': '#2563eb' } },
  { selector: 'edge.finding', style: { 'line-color': '#b91c1c', 'target-arrow-color': '#b91c1c', 'line-style': 'dashed', color: '#991b1b', 'font-weight': 'bold' } },
  { selector: 'edge.traffic', style: { 'line-style': 'dotted', 'line-color': '#7c3aed', 'target-arrow-color': '#7c3aed', color: '#5b21b6' } },
  { selector: 'node.traffic-only', style: { 'border-style': 'dotted', 'border-color': '#7c3aed' } },
  { selector: '.faded', style: { opacity: 0.18 } },
  { selector: 'node.hl', style: { 'border-color': '#d97706', 'border-width': 4, opacity: 1 } },
  { selector: 'edge.hl', style: { 'line-color': '#d97706', 'target-arrow-color': '#d97706', width: 5, opacity: 1, 'z-index': 10 } },
  { selector: 'node:selected', style: { 'overlay-color': '#111827', 'overlay-opacity': 0.15, 'border-color': '#111827', 'border-width': 3 } },
  { selector: 'edge:selected', style: { 'overlay-color': '#111827', 'overlay-opacity': 0.12, 'overlay-padding': 4 } },
];

// label is what a key is called for people: the glossary's words for a
// category, a purpose (kind; a category and a purpose may share a key), a
// role or a safeguard, else the key itself. The key stays on hover.
export function label(key, kind = 'category') {
  return words(key, kind);
}

// textWidth is how wide a line of text is drawn at a font size, in the
// graph's units.
const measure = document.createElement('canvas').getContext('2d');
function textWidth(text, size) {
  measure.font = `${size}px system-ui, sans-serif`;
  return Math.max(...String(text).split('\n').map((l) => measure.measureText(l).width));
}

// nodeWidth leaves room for the label inside the node's shape: ellipses
// and polygons need more than rectangles.
function nodeWidth(text, classes, size) {
  const extra = /processor/.test(classes) ? 30 : /controller|authority/.test(classes) ? 26 : 16;
  return Math.ceil(textWidth(text, size) + extra);
}

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

// SAFEGUARD_ON_LINE are the short names a line's label gives safeguards, so
// that labels stay small; the hover and the panel give them in full.
const SAFEGUARD_ON_LINE = { scc: 'SCC', bcr: 'BCR', dpf: 'DPF' };

// edgeLabel is a flow's summary on the map: what data (the category's name,
// or how many categories), and for a transfer out of the EEA where to and
// under what. Counts, purposes and keys are on hover and in the panel.
function edgeLabel(p) {
  const cats = [...p.categories].sort();
  let text = cats.length === 1 ? clip(label(cats[0]), 30) : `${cats.length} categories`;
  if (p.transfer) {
    const sg = [...p.safeguards].filter((s) => s && s !== 'none').map((s) => SAFEGUARD_ON_LINE[s] || label(s, 'safeguard'));
    text += `\n${[...p.countries].join(', ')} · ${p.finding ? '⚠ safeguard missing' : sg.join(', ') || 'no safeguard needed'}`;
  }
  return text;
}

function clip(text, n) {
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
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
    const text = `${grp} (${count})`;
    els.push({ data: { id, label: text, fs: FONT, w: nodeWidth(text, 'group', FONT), group: grp, count }, classes: 'group' + (map.collapsed.has(grp) ? '' : ' open') });
  }
  for (const n of g.nodes) {
    const grp = groupOf(n);
    if (grp && map.collapsed.has(grp)) {
      shown.set(n.name, 'group:' + grp);
      continue;
    }
    shown.set(n.name, n.name);
    const classes = nodeClass(n);
    const data = { id: n.name, label: n.name, fs: FONT, w: nodeWidth(n.name, classes, FONT), node: n };
    if (grp) data.parent = 'group:' + grp;
    els.push({ data, classes });
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
      data: { id: c.id, source: c.source, target: c.target, label: `${fmt(c.spans)} calls, no event`, full: '', w: 1.5, fs: FONT, mx: 0, my: 0, traffic: c.rows },
      classes: 'traffic' + (pairs.size + calls.size > EDGE_LABELS ? ' quiet' : ''),
    });
  }
  for (const p of pairs.values()) {
    els.push({
      data: { id: p.id, source: p.source, target: p.target, label: edgeLabel(p), full: '', w: Math.min(8, 1 + Math.log10(1 + p.records)), fs: FONT, mx: 0, my: 0,
        categories: [...p.categories].sort(), edges: p.edges, pair: p },
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
  // Room between ranks for the widest flow label, within bounds.
  let widest = 0;
  map.cy.edges().forEach((e) => { if (!e.hasClass('quiet')) widest = Math.max(widest, textWidth(e.data('label'), FONT)); });
  map.cy.layout({
    name: 'dagre', rankDir: 'LR', nodeSep: ROW - NODE_H, rankSep: Math.min(320, Math.max(140, widest * 1.6)), edgeSep: 6, padding: PAD, animate: false, fit: false,
    ranker: ranker || (n > QUICK_RANKING ? 'tight-tree' : 'network-simplex'),
  }).run();
  widen();
  const positions = new Map();
  map.cy.nodes().forEach((node) => { positions.set(node.id(), { ...node.position() }); });
  map.placed = { group: map.group, collapsed: new Set(map.collapsed), positions, edges: new Set(map.cy.edges().map((e) => e.id())) };
  map.layouts++;
  graphEl().dataset.layouts = String(map.layouts);
  fitView();
  return performance.now() - t0;
}

// widen spreads the ranks apart when the map is taller than its box is:
// the fit is then set by the height, and the width it leaves unused goes
// to the gaps between ranks, each in proportion to the flows crossing it
// (and at least as wide as its widest label), for the labels to find room.
function widen() {
  const cy = map.cy;
  const nodes = cy.nodes().filter((n) => !n.isParent());
  if (nodes.length < 2) return;
  const b = nodes.boundingBox({ includeLabels: false, includeOverlays: false });
  const h = b.y2 - b.y1;
  const bw = graphEl().clientWidth - 2 * PAD;
  const bh = graphEl().clientHeight - 2 * PAD;
  if (!(h > 0 && bw > 0 && bh > 0)) return;
  const z = Math.min(MAX_FIT, bh / h);
  // Ranks: the nodes dagre put at the same x.
  const ranks = new Map();
  nodes.forEach((n) => {
    const x = Math.round(n.position('x'));
    const r = ranks.get(x) || { x, half: 0, nodes: [] };
    r.half = Math.max(r.half, n.width() / 2);
    r.nodes.push(n);
    ranks.set(x, r);
  });
  const rs = [...ranks.values()].sort((a, c) => a.x - c.x);
  if (rs.length < 2) return;
  const gaps = rs.slice(1).map(() => ({ flows: 0, widest: 0 }));
  cy.edges().forEach((e) => {
    const a = Math.round(e.source().position('x'));
    const c = Math.round(e.target().position('x'));
    const w = e.hasClass('quiet') ? 0 : textWidth(e.data('label'), FONT / z);
    rs.forEach((r, i) => {
      if (i + 1 < rs.length && Math.min(a, c) <= r.x && rs[i + 1].x <= Math.max(a, c)) {
        gaps[i].flows++;
        gaps[i].widest = Math.max(gaps[i].widest, w);
      }
    });
  });
  const ranksWidth = rs.reduce((t, r) => t + 2 * r.half, 0);
  const room = bw / z - ranksWidth;
  const least = gaps.map((g) => Math.max(60, g.widest + 40));
  const spare = room - least.reduce((t, v) => t + v, 0);
  const now = rs[rs.length - 1].x - rs[0].x - ranksWidth + rs[0].half + rs[rs.length - 1].half;
  if (spare <= 0 || room <= now) return;
  const weight = gaps.reduce((t, g) => t + Math.max(1, g.flows), 0);
  let x = rs[0].x;
  cy.batch(() => {
    rs.forEach((r, i) => {
      if (i > 0) x += rs[i - 1].half + least[i - 1] + spare * Math.max(1, gaps[i - 1].flows) / weight + r.half;
      for (const n of r.nodes) n.position('x', x);
    });
  });
}

// fitView fits the map in its box (no closer than MAX_FIT) and sizes the
// text for that zoom: every label comes out at FONT px or more, node
// labels within their row. Then it finds each flow label a place.
function fitView() {
  const cy = map.cy;
  const fit = () => {
    cy.fit(undefined, PAD);
    if (cy.zoom() > MAX_FIT) { cy.zoom(MAX_FIT); cy.center(); }
    return cy.zoom();
  };
  let z = fit();
  // Node text may grow by a sixth before it leaves its row.
  const nodeFont = Math.min(FONT * 7 / 6, Math.max(FONT, FONT / z));
  cy.batch(() => {
    cy.nodes().forEach((n) => {
      if (n.isParent()) { n.data('fs', Math.max(FONT, FONT / z)); return; }
      n.data({ fs: nodeFont, w: nodeWidth(n.data('label'), n.classes().join(' '), nodeFont) });
    });
  });
  z = fit();
  cy.batch(() => { cy.edges().data('fs', Math.max(FONT, FONT / z)); });
  placeLabels();
}

// placeLabels moves each flow label along its line to where it covers no
// node and no other label: the most telling flows (transfers without a
// safeguard, then transfers, then by records) choose first. A label with
// no free place is left out (it shows on hover and selection) and counted.
function placeLabels() {
  const cy = map.cy;
  const z = cy.zoom();
  const gap = 3 / z;
  const taken = [];
  cy.nodes().forEach((n) => {
    if (n.isParent()) return;
    const b = n.boundingBox({ includeLabels: true, includeOverlays: false });
    taken.push({ x1: b.x1 - gap, y1: b.y1 - gap, x2: b.x2 + gap, y2: b.y2 + gap });
  });
  // Group titles sit on top of their box.
  cy.nodes(':parent').forEach((g) => {
    const b = g.boundingBox({ includeLabels: true, includeOverlays: false });
    const t = g.boundingBox({ includeLabels: false, includeOverlays: false });
    if (t.y1 > b.y1) taken.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: t.y1 + gap });
  });
  const free = (r) => taken.every((o) => r.x2 <= o.x1 || o.x2 <= r.x1 || r.y2 <= o.y1 || o.y2 <= r.y1);
  const rank = (e) => (e.hasClass('finding') ? 3e15 : 0) + (e.hasClass('transfer') ? 1e15 : 0) + (e.data('pair') ? e.data('pair').records : 0);
  const edges = cy.edges().filter((e) => !e.hasClass('quiet')).sort((a, b) => rank(b) - rank(a));
  const along = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.46, 0.54, 0.38, 0.62, 0.3, 0.7, 0.22, 0.78, 0.18, 0.82, 0.14, 0.86];
  let crowded = 0;
  cy.batch(() => {
    edges.forEach((e) => {
      e.removeClass('crowded');
      e.data({ mx: 0, my: 0, label: e.data('full') || e.data('label') });
      const s = e.sourceEndpoint();
      const t = e.targetEndpoint();
      const b = e.boundingBox({ includeLabels: true, includeNodes: false, includeEdges: false, includeOverlays: false });
      const mid = { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 };
      const fs = e.data('fs');
      // The full label; if it finds no room, what data alone (the line's
      // colour still tells a transfer); else where to and under what.
      const texts = [[e.data('label'), b.x2 - b.x1, b.y2 - b.y1]];
      const lines = e.data('label').split('\n');
      if (lines.length > 1) {
        for (const short of [lines[0], lines[lines.length - 1]]) texts.push([short, textWidth(short, fs) + 4, (b.y2 - b.y1) / lines.length]);
      }
      for (const [text, tw, th] of texts) {
        const w = tw + 2 * gap;
        const h = th + 2 * gap;
        // On the line first; then just above or below it, still on it.
        for (const dy of [0, -0.4 * h, 0.4 * h]) {
          for (const u of along) {
            const c = { x: s.x + u * (t.x - s.x), y: s.y + u * (t.y - s.y) + dy };
            const r = { x1: c.x - w / 2, y1: c.y - h / 2, x2: c.x + w / 2, y2: c.y + h / 2 };
            if (free(r)) {
              taken.push(r);
              if (text !== e.data('label')) e.data({ full: e.data('label'), label: text });
              e.data({ mx: c.x - mid.x, my: c.y - mid.y });
              return;
            }
          }
        }
      }
      e.addClass('crowded');
      crowded++;
    });
  });
  map.crowded = crowded;
  graphEl().dataset.crowded = String(crowded);
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
    fitView();
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
  const hidden = cy.edges('.crowded, .quiet').length;
  document.getElementById('summary').textContent = nodes === 0
    ? 'Nothing observed under these filters.'
    : `${plural(nodes, 'node')}, ${plural(map.graph.edges.length, 'flow')}` +
      (findings ? `; ${plural(findings, 'transfer')} without a needed safeguard (dashed red)` : '') +
      (hidden ? `; ${plural(hidden, 'label')} left out for room (point at a line or select it)` : '') +
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
    document.getElementById('summary').textContent = `${label(category)} from ${from} reaches ${plural(new Set(rows.map((r) => r.node)).size, 'place')}, up to ${plural(hops, 'hop')} away (highlighted).`;
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
    // b.summary counts what the recipient received and what it passed on
    // apart, never added: the same records can travel every hop.
    const onward = [...new Set(b.passed_on.map((r) => r.node))];
    document.getElementById('summary').textContent = `A breach of ${recipient}. ${b.summary} It received ` +
      `${plural(b.categories.length, 'category', 'categories')} about ${b.data_subjects.join(', ')} from ${b.systems.join(', ')}` +
      (onward.length ? `; it passed data on to ${onward.join(', ')} — those onward flows are highlighted too.` : '.');
    setState('ready');
  } catch (err) { showError(err); }
}

// select opens a node's panel.
async function select(name) {
  const cy = map.cy;
  const n = cy.$id(name);
  if (n.empty()) return;
  cy.elements().unselect();
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
      if (kind === 'name' && key === 'safeguard' && (!r[key] || r[key] === 'none')) {
        const t = map.transfers.get(r.system + '\u0000' + r.recipient);
        tr.append(el('td', t && t.finding ? 'safeguard missing' : 'no safeguard needed', { title: r[key] || '' }));
        if (t && t.finding) tr.classList.add('finding');
      } else if (kind === 'name') {
        tr.append(el('td', label(r[key] || '', key), r[key] ? { title: r[key] } : {}));
      } else {
        const { text, title } = shown(r, { name: key, kind: kind === 'date' ? 'time' : kind });
        tr.append(el('td', text, { ...(title ? { title } : {}), ...(kind === 'date' ? { class: 'time' } : {}) }));
      }
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
    // The panel answers what and where to; the dates are on the
    // evidence rows it links to.
    const flowCols = [['to', 'recipient'], ['category', 'category', 'name'], ['country', 'country'], ['safeguard', 'safeguard', 'name'], ['records', 'records']];
    if (node.system) {
      const p = questionParams('inventory', { system: node.name, limit: '500' });
      asks.push(api('/api/v1/inventory', p).then((a) => rowsTable('Holds', [['category', 'category', 'name'], ['subject', 'data_subject'], ['purpose', 'purpose', 'name'], ['retention', 'retention'], ['records', 'records']], a.items, '/inventory?' + p.toString().replace(/&?limit=\d+/, ''))));
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

// holders are the systems that hold data under the page's filters, as the
// inventory answers; none when a filter is one the inventory cannot take
// (a recipient, a country: then only flows relate a system to it).
async function holders(params) {
  const allowed = (graphEl().dataset.inventoryParams || '').split(',');
  if ([...params.keys()].some((k) => !allowed.includes(k))) return [];
  const p = new URLSearchParams(params);
  p.set('limit', '10000');
  const a = await api('/api/v1/inventory', p);
  return [...new Set(a.items.map((r) => r.system))];
}

// autoGroup chooses how a map nobody grouped by hand is drawn: as it is
// when its columns fit the box at MIN_ZOOM or closer, else with recipients
// collapsed by country (and the systems into one node when they alone are
// too many), each group opening on a click.
function autoGroup() {
  map.collapsed = new Set();
  map.group = param('group') || '';
  if (map.group) return;
  const rows = Math.floor((graphEl().clientHeight - 2 * PAD) / (ROW * MIN_ZOOM));
  const systems = map.graph.nodes.filter((n) => !n.recipient).length;
  const recipients = map.graph.nodes.length - systems;
  if (recipients <= rows && systems <= rows) return;
  map.group = 'country';
  if (recipients > rows) for (const n of map.graph.nodes) if (n.recipient) map.collapsed.add(groupOf(n));
  if (systems > rows) map.collapsed.add(groupOf({}));
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
    // Under a filter, a node none of the filtered flows touches is
    // unrelated to it: a system stays only if it holds such data.
    if ([...params.keys()].some((k) => k !== 'as_of')) {
      const kept = new Set(map.graph.edges.flatMap((e) => [e.from, e.to]));
      for (const s of await holders(params)) kept.add(s);
      if (seq !== map.loads) return;
      map.graph.nodes = map.graph.nodes.filter((n) => kept.has(n.name));
    }
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
    await glossary();
    if (seq !== map.loads) return;
    autoGroup();
    document.getElementById('group-by').value = map.group;
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
  // Cytoscape's own wheel rate moves about 5% a notch of a mouse wheel:
  // 25 notches to go from the overview to reading a crowded corner. At 3.5
  // times that, a notch is about 17%, and a few notches get there.
  map.cy = cytoscape({
    container: graphEl(), style, minZoom: 0.1, maxZoom: 4, boxSelectionEnabled: false, wheelSensitivity: 3.5,
  });
  map.cy.on('tap', 'node', (e) => select(e.target.id()));
  map.cy.on('tap', 'edge', (e) => selectEdge(e.target));
  map.cy.on('mouseover', 'edge', (e) => showTip(e.target, e.renderedPosition));
  map.cy.on('mouseout', 'edge', () => { tipEl().hidden = true; });
  map.cy.on('viewport', () => { tipEl().hidden = true; });
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
  document.getElementById('fit').addEventListener('click', fitView);
  const zoomBy = (f) => {
    const cy = map.cy;
    cy.zoom({ level: cy.zoom() * f, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  };
  document.getElementById('zoom-in').addEventListener('click', () => zoomBy(1.5));
  document.getElementById('zoom-out').addEventListener('click', () => zoomBy(1 / 1.5));
  window.addEventListener('datamap:filters', load);
  load();
}

const tipEl = () => document.getElementById('edge-tip');

// flowLines are a drawn flow's details, one line per category: its name
// and key, purposes, records and events, and for a transfer the country
// and safeguard.
function flowLines(e) {
  const d = e.data();
  if (d.traffic) {
    return d.traffic.map((r) => `${r.system} → ${r.host}: ${plural(r.spans, 'call')} seen in traces (${r.class}), no shared event reported`);
  }
  const byCat = new Map();
  for (const f of d.edges) {
    let c = byCat.get(f.category);
    if (!c) { c = { purposes: new Set(), records: 0, events: 0, where: new Set() }; byCat.set(f.category, c); }
    c.purposes.add(label(f.purpose, 'purpose'));
    c.records += f.records;
    c.events += f.events;
    if (f.country) c.where.add(`${f.country} · ${safeguardWords(f.safeguard, e)}`);
  }
  return [...byCat].map(([k, c]) => `${label(k)} (${k}): ${plural(c.records, 'record')} in ${plural(c.events, 'event')}, for ${[...c.purposes].join(', ')}` +
    (c.where.size ? `; ${[...c.where].join(', ')}` : ''));
}

// safeguardWords names a flow's safeguard; "none" is a missing safeguard on
// a transfer finding, and none needed anywhere else.
function safeguardWords(sg, e) {
  if (sg && sg !== 'none') return label(sg, 'safeguard');
  return e.hasClass('finding') ? 'safeguard missing' : 'no safeguard needed';
}

function showTip(e, at) {
  const tip = tipEl();
  tip.replaceChildren(el('strong', `${e.source().data('label')} → ${e.target().data('label')}`));
  for (const line of flowLines(e)) tip.append(el('div', line));
  tip.hidden = false;
  const box = graphEl();
  tip.style.left = Math.min(at.x + 12, box.clientWidth - tip.offsetWidth - 4) + 'px';
  tip.style.top = Math.min(at.y + 12, box.clientHeight - tip.offsetHeight - 4) + 'px';
}

// selectEdge shows a flow's rows in the panel: every category, purpose and
// data subject it carries, with counts, country and safeguard.
function selectEdge(e) {
  map.cy.elements().unselect();
  e.select();
  const box = document.getElementById('panel');
  box.replaceChildren(el('h2', `${e.source().data('label')} → ${e.target().data('label')}`));
  const d = e.data();
  if (d.traffic) {
    box.append(rowsTable('Calls seen in traces, no shared event reported', [['from', 'system'], ['host', 'host'], ['class', 'class'],
      ['calls', 'spans'], ['first seen', 'first_seen', 'date'], ['last seen', 'last_seen', 'date']], d.traffic));
    return;
  }
  const kind = e.hasClass('finding') ? 'transfer out of the EEA without a needed safeguard' : e.hasClass('transfer') ? 'transfer out of the EEA' : 'flow';
  box.append(el('p', kind, { class: e.hasClass('finding') ? 'finding-note' : 'role' }));
  const rows = d.edges.map((f) => ({ ...f, finding: e.hasClass('finding') && (!f.safeguard || f.safeguard === 'none'), safeguard_words: safeguardWords(f.safeguard, e) }));
  box.append(rowsTable('Flows', [['category', 'category', 'name'], ['purpose', 'purpose', 'name'], ['subject', 'data_subject'], ['records', 'records'],
    ['country', 'country'], ['safeguard', 'safeguard_words']], rows));
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

// labelGeometry is what the label tests check, in rendered pixels: for
// every edge whose label is drawn, its font size and its label's box; for
// every node, its box with its label; the kind of every edge drawn (as the
// legend names them), how many labels were left out, and the zoom.
export function labelGeometry() {
  const cy = map.cy;
  const z = cy.zoom();
  const opts = { includeLabels: true, includeNodes: false, includeEdges: false, includeOverlays: false };
  const edges = cy.edges().filter((e) => e.visible() && e.style('label') !== '').map((e) => {
    const b = e.renderedBoundingBox(opts);
    // Whether the label lies on its own line: a point of the line in its box.
    const s = e.renderedSourceEndpoint();
    const t = e.renderedTargetEndpoint();
    let on = false;
    for (let i = 0; i <= 200 && !on; i++) {
      const x = s.x + (t.x - s.x) * i / 200;
      const y = s.y + (t.y - s.y) * i / 200;
      on = x >= b.x1 && x <= b.x2 && y >= b.y1 && y <= b.y2;
    }
    return { id: e.id(), label: e.style('label'), font: parseFloat(e.style('font-size')) * z, on_line: on, ...b };
  });
  const nodes = cy.nodes().filter((n) => !n.isParent()).map((n) => ({
    id: n.id(), label: n.style('label'), font: parseFloat(n.style('font-size')) * z,
    ...n.renderedBoundingBox({ includeLabels: true, includeOverlays: false }),
  }));
  const kinds = [...new Set(cy.edges().map(edgeKind))].sort();
  return { zoom: z, edges, nodes, kinds, left_out: cy.edges('.crowded, .quiet').length, all_edges: cy.edges().length };
}

// edgeKind is what the legend calls an edge's line.
function edgeKind(e) {
  if (e.hasClass('finding')) return 'finding';
  if (e.hasClass('transfer')) return 'transfer';
  if (e.hasClass('traffic')) return 'traffic';
  return 'flow';
}

// groupedGeometry draws a generated map of n nodes as the page would, grouped
// when it does not fit, and returns its labelGeometry.
export function groupedGeometry(n) {
  generate(n);
  map.placed = null;
  autoGroup();
  document.getElementById('group-by').value = map.group;
  draw();
  return labelGeometry();
}
