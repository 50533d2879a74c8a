// The rollout panel: polls /api/rollout every 2 s and draws each rollout's steps as a progress
// line, the gates of its last check, its timeline and its buttons. Uses el(), api() and $()
// of app.js (loaded first); every text from the API goes through textContent.
/* global el, api, $, BY_KEY, POLL_MS -- app.js's, shared through the page's one global scope */
'use strict';

const ROLLOUT_MARK = { pass: '✓', fail: '✗', inconclusive: '?' };
const ROLLOUT_BUTTONS = {
  progressing: ['pause', 'promote', 'abort'],
  paused: ['resume', 'promote', 'abort'],
  failed: ['resume', 'promote', 'abort'],
  rolled_back: ['restart'],
  completed: ['restart', 'abort'],
};
const ROLLOUT_LABEL = { pause: 'Pause', resume: 'Resume', promote: 'Promote', abort: 'Abort (roll back)', restart: 'Restart' };

function stepLine(rollout) {
  return el(
    'ol',
    { class: 'steps', 'aria-label': 'steps' },
    rollout.steps.map((step, i) => {
      const where = i < rollout.stepIndex ? 'done' : i === rollout.stepIndex ? 'current' : 'todo';
      return el(
        'li',
        { class: `step ${where}${step === 'pause' ? ' pause' : ''}`, 'data-step': i, 'aria-current': where === 'current' ? 'step' : null },
        step === 'pause' ? 'pause' : `${step}%`,
      );
    }),
  );
}

function gateTable(check) {
  if (!check) return el('p', { class: 'muted' }, 'No check yet.');
  return el(
    'table',
    { class: 'metrics gates' },
    el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, 'Gate'), el('th', {}, 'Value'), el('th', {}, 'Threshold'), el('th', {}, 'Why'))),
    el(
      'tbody',
      {},
      check.gates.map((g) =>
        el(
          'tr',
          { 'data-gate': g.gate, 'data-verdict': g.verdict },
          el('td', { class: `mark ${g.verdict}` }, ROLLOUT_MARK[g.verdict]),
          el('td', { class: 'mono' }, g.gate),
          el('td', {}, g.value === null ? '—' : String(g.value)),
          el('td', {}, `${g.gate === 'requests' || g.gate === 'comparisons' ? '≥' : '≤'} ${g.threshold}`),
          el('td', { class: 'muted' }, g.why),
        ),
      ),
    ),
  );
}

function timeline(events) {
  return el(
    'ol',
    { class: 'timeline' },
    events
      .slice(0, 8)
      .map((e) =>
        el(
          'li',
          { 'data-event': e.event },
          el('span', { class: 'muted' }, new Date(e.time).toLocaleTimeString()),
          ' ',
          el('b', {}, e.event.replace('_', ' ')),
          ` ${e.from}% → ${e.to}%`,
        ),
      ),
  );
}

function rolloutPanel(rollout) {
  const next = rollout.nextCheckInSeconds === null ? '' : ` · next check in ${Math.ceil(rollout.nextCheckInSeconds)} s`;
  const check = rollout.lastCheck;
  return el(
    'div',
    { class: 'rollout', 'data-rollout': rollout.route, 'data-status': rollout.status },
    el(
      'div',
      { class: 'rollout-head' },
      el(
        'div',
        {},
        el('div', { class: 'route-name' }, `${rollout.route} → ${rollout.backend}`),
        el(
          'div',
          { class: 'muted' },
          `group ${rollout.group} · ${rollout.percent}% · failures ${rollout.failures} of ${rollout.failureLimit} (then ${rollout.onFailure})${next}`,
        ),
        rollout.leader === null
          ? null
          : el('div', { class: 'muted', 'data-testid': 'rollout-leader' }, 'leader ', el('b', {}, rollout.leader), " (the fleet's rollout controller)"),
      ),
      el('span', { class: `badge state ${rollout.status}`, 'data-testid': 'rollout-status' }, rollout.status.replace('_', ' ')),
      el(
        'div',
        { class: 'rollout-buttons' },
        ROLLOUT_BUTTONS[rollout.status].map((command) =>
          el(
            'button',
            { type: 'button', class: `button${command === 'abort' ? ' danger' : ''}`, 'data-rollout-command': command, 'data-route': rollout.route },
            ROLLOUT_LABEL[command],
          ),
        ),
      ),
    ),
    rollout.holding === null ? null : el('p', { class: 'holding', 'data-testid': 'rollout-holding' }, el('b', {}, 'holding'), ` ${rollout.holding}`),
    stepLine(rollout),
    el(
      'div',
      { class: 'rollout-body' },
      el(
        'div',
        {},
        el('h3', {}, check ? `Last check: ${check.verdict} at ${check.percent}%` : 'Last check'),
        gateTable(check),
        check ? el('p', { class: 'muted reason' }, check.reason) : null,
      ),
      el('div', {}, el('h3', {}, 'Timeline'), timeline(rollout.events)),
    ),
  );
}

async function refreshRollouts() {
  if (document.querySelector('dialog[open]')) return;
  try {
    const { rollouts } = await api('/api/rollout');
    $('rollouts-card').hidden = rollouts.length === 0;
    $('rollouts').replaceChildren(...rollouts.map(rolloutPanel));
  } catch (error) {
    // 404: this admin port runs no rollout controller (GATEWAY_ROLLOUT=off); 401: the token dialog
    // asks. Anything else (a fleet whose leader cannot be asked) is said in the panel, as the CLI says it.
    const hidden = error.status === 404 || error.status === 401;
    $('rollouts-card').hidden = hidden;
    if (!hidden) $('rollouts').replaceChildren(el('p', { class: 'holding', 'data-testid': 'rollouts-problem' }, error.message));
  }
}

async function rolloutCommand(route, command) {
  if (command === 'abort' && !window.confirm(`Roll ${route} back to 0 % now?`)) return;
  try {
    await api(`/api/rollout/${encodeURIComponent(route)}/${command}`, { by: localStorage.getItem(BY_KEY) || '', reason: 'from the dashboard' });
  } catch (error) {
    window.alert(`${command} refused: ${error.message}`);
  }
  await refreshRollouts();
}

document.addEventListener('DOMContentLoaded', () => {
  $('rollouts').addEventListener('click', (event) => {
    const button = event.target.closest('[data-rollout-command]');
    if (button) void rolloutCommand(button.dataset.route, button.dataset.rolloutCommand);
  });
  void refreshRollouts();
  setInterval(refreshRollouts, POLL_MS);
});
