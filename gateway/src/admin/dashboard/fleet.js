// The fleet panel (etcd store only): every live replica against the plan version the store
// holds, as `gateway fleet` prints it. Polled only while /api/stats says its numbers are a
// fleet's (`replicas`); a gateway on a routes file never asks. Uses el(), api(), $() and
// state of app.js (loaded first); every text from the API goes through textContent.
/* global el, api, $, state, POLL_MS -- app.js's, shared through the page's one global scope */
'use strict';

function fleetUptime(seconds) {
  if (seconds >= 86400) return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)} min`;
  return `${seconds} s`;
}

function fleetRow(replica) {
  const stateClass = replica.state === 'in sync' ? 'ok' : replica.state === 'rejected' ? 'bad' : 'warn';
  return el(
    'tr',
    { 'data-replica': replica.id },
    el('td', {}, replica.id),
    el('td', {}, replica.adminUrl ? el('a', { href: replica.adminUrl }, replica.adminUrl) : '—'),
    el('td', { class: 'mono', title: replica.version }, replica.version.slice(0, 12)),
    el(
      'td',
      { class: 'fleet-state' },
      el('span', { class: `badge fleet ${stateClass}` }, replica.state),
      replica.draining ? el('span', { class: 'badge plain', 'data-testid': 'fleet-draining' }, 'draining') : null,
      replica.storeUp ? null : el('span', { class: 'badge plain' }, 'store down'),
      replica.message ? el('div', { class: 'fleet-message' }, replica.message) : null,
    ),
    el('td', { title: replica.since }, new Date(replica.since).toLocaleTimeString()),
    el('td', {}, fleetUptime(replica.uptimeSeconds)),
  );
}

function drawFleet(fleet) {
  $('fleet-card').hidden = false;
  const stored = fleet.storeVersion === null ? 'holds no plan yet' : `holds version ${fleet.storeVersion.slice(0, 12)}`;
  $('fleet-note').textContent = `the store ${stored}; ${fleet.replicas.length} live ${fleet.replicas.length === 1 ? 'replica' : 'replicas'}`;
  $('fleet-rows').replaceChildren(...fleet.replicas.map(fleetRow));
}

async function refreshFleet() {
  if (state.stats?.replicas === undefined) return;
  try {
    drawFleet(await api('/api/fleet'));
  } catch (error) {
    $('fleet-note').textContent = `Cannot read the fleet: ${error.message}`;
  }
}

setInterval(() => {
  if (!document.hidden) void refreshFleet();
}, POLL_MS);
