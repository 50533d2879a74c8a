// The shadow mismatches panel: the last requests whose answers differed under shadow traffic
// (the request, both statuses, where the answers differ) and the command that exports them
// as a replay suite. Polled only while some route has counted a mismatch (/api/stats). Uses
// el(), api(), $(), timeAgo() and state of app.js (loaded first); every text from the API
// goes through textContent.
/* global el, api, $, state, POLL_MS, timeAgo -- app.js's, shared through the page's one global scope */
'use strict';

const SHOWN_MISMATCHES = 5;
const SHOWN_DIFF_LINES = 3;

function mismatchItem(mismatch) {
  const { request, primary, candidate, diff } = mismatch;
  return el(
    'li',
    { 'data-request': mismatch.requestId },
    el('time', { datetime: mismatch.at, title: mismatch.at }, timeAgo(mismatch.at)),
    el(
      'div',
      {},
      el('div', { class: 'what' }, el('b', {}, mismatch.route), ` ${request.method} ${request.target}`),
      el('div', { class: 'why' }, `${primary.backend} ${primary.status} → ${candidate.backend} ${candidate.status}`),
      ...diff.slice(0, SHOWN_DIFF_LINES).map((line) => el('div', { class: 'diff-line mono' }, line)),
      diff.length > SHOWN_DIFF_LINES ? el('div', { class: 'why' }, `… and ${diff.length - SHOWN_DIFF_LINES} more`) : null,
    ),
  );
}

async function refreshMismatches() {
  if (!state.stats?.routes.some((route) => route.shadow?.mismatch > 0)) return;
  try {
    const found = await api(`/api/shadow/mismatches?limit=${SHOWN_MISMATCHES}`);
    $('mismatches-card').hidden = false;
    $('mismatches-note').textContent = `${found.total} recorded since start; the newest ${found.mismatches.length} here`;
    $('mismatches').replaceChildren(...found.mismatches.map(mismatchItem));
    const routes = [...new Set(found.mismatches.map((mismatch) => mismatch.route))];
    $('mismatches-export').textContent = routes.map((route) => `npx gateway mismatches export --route ${route} > ${route}-suite.json`).join('\n');
  } catch (error) {
    $('mismatches-note').textContent = `Cannot read the mismatches: ${error.message}`;
  }
}

setInterval(() => {
  if (!document.hidden) void refreshMismatches();
}, POLL_MS);
