// Entry point of every page: wires the filters, then the page's own module.
import { initFilters, setState } from './common.js';

const page = document.body.dataset.page;

async function start() {
  if (page === 'login') {
    // A one-time link (datamap demo) logs in at once; the form still
    // posts, with its CSRF value, so the code never rides a GET.
    const once = document.getElementById('once-submit');
    if (once) once.form.requestSubmit();
    setState('ready');
    return;
  }
  initFilters();
  switch (page) {
    case 'map': (await import('./map.js')).initMap(); break;
    case 'inventory': case 'flows': case 'transfers': case 'retention': case 'traffic': (await import('./tables.js')).initTable(); break;
    case 'drift': (await import('./pages.js')).initDrift(); break;
    case 'article30': (await import('./pages.js')).initRecord(); break;
    case 'deadletters': (await import('./pages.js')).initDeadLetters(); break;
    default: setState('ready');
  }
}

start();
