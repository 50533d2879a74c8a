// The migration dashboard: polls the admin API every 2 s and redraws. Plain DOM (no
// framework, no build step); every text from the API goes through textContent, never HTML.
'use strict';

const POLL_MS = 2000;
const TOKEN_KEY = 'gateway-admin-token';
const BY_KEY = 'gateway-admin-by';
const $ = (id) => document.getElementById(id);

const state = { plan: null, stats: null, audit: null, legacy: 'legacy', colours: new Map(), shiftRoute: null, lastOk: 0, rolloutsOnly: false };

/** `el('td', { class: 'x' }, 'text', child)` */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

const percent = (ratio, digits = 1) => (ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(digits).replace(/\.0+$/, '')}%`);
const rate = (perSecond) => (perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(2));
const ms = (value) =>
  value === null || value === undefined ? '—' : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

// ---- API ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, body) {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = await response.json().catch(() => ({ message: `${response.status} ${response.statusText}` }));
  if (response.status === 401) askForToken();
  if (!response.ok) throw new ApiError(response.status, payload.message || `${response.status}`);
  return payload;
}

function askForToken() {
  const dialog = $('token-dialog');
  if (!dialog.open) dialog.showModal();
}

// ---- drawing ----------------------------------------------------------------------------

/** A stable colour class per new backend, in the plan's declaration order. */
function colourOf(backend) {
  if (backend === state.legacy) return 'legacy';
  if (!state.colours.has(backend)) state.colours.set(backend, `b${state.colours.size % 4}`);
  return state.colours.get(backend);
}

function bar(kind, shares) {
  // shares: [[backend, ratio 0..1]]
  const node = el('div', { class: `bar ${kind}`, role: 'img', 'aria-label': `${kind}: ${shares.map(([b, r]) => `${b} ${percent(r)}`).join(', ')}` });
  for (const [backend, ratio] of shares) {
    if (ratio <= 0) continue;
    const segment = el(
      'div',
      { class: `segment ${colourOf(backend)}`, 'data-backend': backend, title: `${backend} ${percent(ratio)}` },
      ratio >= 0.12 ? `${backend} ${percent(ratio)}` : '',
    );
    segment.style.width = `${ratio * 100}%`; // CSSOM, allowed under style-src 'self'
    node.append(segment);
  }
  return node;
}

function legend(shares, kind) {
  return el(
    'div',
    { class: 'legend', 'data-kind': kind },
    shares.map(([backend, ratio]) =>
      el('span', { 'data-backend': backend }, el('span', { class: `swatch ${colourOf(backend)}` }), `${backend} `, el('b', {}, percent(ratio))),
    ),
  );
}

function groupSize(group) {
  return state.stats.routes.filter((r) => r.group === group && r.deny === null).length;
}

/** ` {x-client: mobile}`: two routes may differ only by a header condition, so it is shown. */
function headerConditions(headers) {
  if (!headers) return '';
  return ` {${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join(', ')}}`;
}

function routeRow(route) {
  const configured = Object.entries(route.split).map(([backend, pct]) => [backend, pct / 100]);
  const forwarded = route.backends.filter((b) => b.backend !== 'none' && b.requests > 0);
  const realised = forwarded.map((b) => [b.backend, b.share]);
  const newShare = configured.filter(([b]) => b !== state.legacy).reduce((sum, [, r]) => sum + r, 0);

  const rows = route.backends
    .filter((b) => b.backend !== 'none')
    .map((b) =>
      el(
        'tr',
        { 'data-backend': b.backend },
        el('td', {}, el('span', { class: `swatch ${colourOf(b.backend)}` }), b.backend),
        el('td', {}, b.requests ? rate(b.requestsPerSecond) : '—'),
        el('td', { class: b.errorRate > 0.01 ? 'bad' : null }, percent(b.errorRate, 2)),
        el('td', {}, ms(b.p95Ms)),
      ),
    );
  const shadow = route.shadow;
  const compared = shadow.match + shadow.mismatch;
  const shadowLine = el(
    'p',
    { class: 'shadow' },
    'Shadow: ',
    compared === 0
      ? 'no comparisons'
      : [el('b', { class: shadow.matchRate < 0.99 ? 'bad' : null }, `${percent(shadow.matchRate)} match`), ` · ${shadow.mismatch} mismatches of ${compared}`],
  );

  return el(
    'div',
    { class: 'route', 'data-route': route.name },
    el(
      'div',
      {},
      el('div', { class: 'route-name' }, route.name),
      el(
        'div',
        { class: 'route-meta' },
        groupSize(route.group) > 1 ? el('span', { class: 'badge', title: 'routes of one group move together' }, `group ${route.group}`) : null,
        newShare > 0 ? null : el('span', { class: 'badge plain' }, 'all legacy'),
      ),
      el(
        'div',
        { class: 'route-where muted mono' },
        route.match.join(' ') + (route.methods ? ` [${route.methods.join(',')}]` : '') + headerConditions(route.headers),
      ),
      route.fallback ? el('div', { class: 'route-where muted' }, `fallback on ${route.fallback}`) : null,
    ),
    el(
      'div',
      { class: 'bars' },
      el('div', { class: 'bar-row' }, el('span', { class: 'bar-label' }, 'Configured'), bar('configured', configured)),
      el(
        'div',
        { class: 'bar-row' },
        el('span', { class: 'bar-label' }, 'Realised'),
        forwarded.length ? bar('realised', realised) : el('div', { class: 'bar realised' }),
      ),
      el('div', { class: 'bar-row' }, el('span', {}), legend(configured, 'configured')),
      el(
        'div',
        { class: 'bar-row' },
        el('span', {}),
        forwarded.length ? legend(realised, 'realised') : el('div', { class: 'legend', 'data-kind': 'realised' }, 'no traffic in the window'),
      ),
    ),
    el(
      'div',
      {},
      el(
        'table',
        { class: 'metrics' },
        el('thead', {}, el('tr', {}, el('th', {}, 'Backend'), el('th', {}, 'req/s'), el('th', {}, '5xx'), el('th', {}, 'p95'))),
        el('tbody', {}, rows),
      ),
      shadowLine,
    ),
    el('div', {}, el('button', { type: 'button', class: 'button', 'data-shift': route.name }, 'Shift…')),
  );
}

function drawStats() {
  const { stats, plan } = state;
  if (!stats || !plan) return;
  $('plan-file').textContent = plan.file;
  const migrated = stats.migratedShare;
  $('migrated').textContent = percent(migrated);
  $('migrated-meter').style.width = `${(migrated || 0) * 100}%`;
  $('migrated-note').textContent =
    migrated === null ? 'nothing forwarded in the window yet' : `of forwarded requests answered by the new services, last ${windowText(stats.windowSeconds)}`;
  $('rate').textContent = rate(stats.requestsPerSecond);
  let requests = 0;
  let errors = 0;
  for (const route of stats.routes)
    for (const b of route.backends) {
      requests += b.requests;
      errors += Math.round((b.errorRate || 0) * b.requests);
    }
  $('errors').textContent = requests ? percent(errors / requests, 2) : '—';
  $('errors').classList.toggle('bad', requests > 0 && errors / requests > 0.01);
  const forwarding = stats.routes.filter((r) => r.deny === null);
  const moving = forwarding.filter((r) => Object.entries(r.split).some(([b, p]) => b !== state.legacy && p > 0));
  $('moving').textContent = `${moving.length} / ${forwarding.length}`;
  const whose = stats.replicas === undefined ? '' : `, all ${stats.replicas} ${stats.replicas === 1 ? 'replica' : 'replicas'} of the fleet`;
  $('window-note').textContent = `configured split vs. what was really served, last ${windowText(stats.windowSeconds)}${whose}`;

  $('routes').replaceChildren(...forwarding.map(routeRow));
  const denied = stats.routes.filter((r) => r.deny !== null);
  $('denied').textContent = denied.length ? `Never forwarded: ${denied.map((r) => `${r.name} (${r.match.join(' ')} → ${r.deny})`).join(' · ')}` : '';
}

function drawAudit() {
  const audit = state.audit;
  if (!audit) return;
  $('audit-file').textContent = audit.file + (audit.unreadableLines ? ` · ${audit.unreadableLines} unreadable lines` : '');
  const items = audit.entries.map((entry) => {
    const from =
      Object.entries(entry.old)
        .filter(([b]) => b !== state.legacy)
        .map(([b, p]) => `${b} ${p}%`)
        .join(', ') || `${state.legacy} 100%`;
    const to =
      Object.entries(entry.new)
        .filter(([b]) => b !== state.legacy)
        .map(([b, p]) => `${b} ${p}%`)
        .join(', ') || `${state.legacy} 100%`;
    return el(
      'li',
      {},
      el('time', { datetime: entry.time, title: entry.time }, timeAgo(entry.time)),
      el(
        'div',
        {},
        el('div', { class: 'what' }, entry.action === 'panic' ? el('span', { class: 'panic' }, 'PANIC ') : null, el('b', {}, entry.route), `: ${from} → ${to}`),
        el('div', { class: 'why' }, `${entry.who} via ${entry.via}${entry.reason ? ` — “${entry.reason}”` : ''}`),
      ),
    );
  });
  $('audit').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, 'No changes recorded yet.')]));
}

function windowText(seconds) {
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds)} s`;
}

function timeAgo(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function setLive(ok, message) {
  const live = $('live');
  live.dataset.state = ok ? 'live' : 'down';
  $('live-text').textContent = ok ? 'live' : 'disconnected';
  const error = $('error');
  error.hidden = ok;
  if (!ok) error.textContent = message;
}

async function refresh() {
  try {
    const [plan, stats, audit] = await Promise.all([api('/api/plan'), api('/api/stats'), api('/api/audit?limit=20')]);
    state.plan = plan;
    state.legacy = plan.backends.find((b) => b.legacy)?.name || 'legacy';
    for (const backend of plan.backends) colourOf(backend.name);
    state.stats = stats;
    state.audit = audit;
    state.lastOk = Date.now();
    drawStats();
    drawAudit();
    setLive(true);
  } catch (error) {
    if (error.status === 404) showRolloutsOnly(error.message);
    else setLive(false, error.status === 401 ? 'The admin API wants its token.' : `Cannot load live data: ${error.message}`);
  }
}

/** 404 on /api/plan: this admin port serves only the rollouts (a cluster primary, gateway rollout run); its answer says why. */
function showRolloutsOnly(message) {
  state.rolloutsOnly = true;
  document.body.classList.add('rollouts-only');
  $('rollouts-only').textContent = message;
  $('rollouts-only').hidden = false;
  $('live').dataset.state = 'live';
  $('live-text').textContent = 'rollouts only';
}

// ---- shift ------------------------------------------------------------------------------

function openShift(routeName) {
  const route = state.stats.routes.find((r) => r.name === routeName);
  state.shiftRoute = route;
  $('shift-route').textContent = route.name;
  const siblings = state.stats.routes.filter((r) => r.group === route.group && r.deny === null && r.name !== route.name);
  $('shift-group').textContent = siblings.length
    ? `Group ${route.group}: ${siblings.map((r) => r.name).join(', ')} move${siblings.length === 1 ? 's' : ''} with it.`
    : 'Share of clients on the new backend; legacy takes the rest.';
  const listed = Object.keys(route.split).filter((b) => b !== state.legacy);
  const others = state.plan.backends.filter((b) => !b.legacy && !listed.includes(b.name)).map((b) => b.name);
  $('shift-backend').replaceChildren(...[...listed, ...others].map((name) => el('option', { value: name }, name)));
  setShiftPercent(route.split[$('shift-backend').value] ?? 0);
  $('shift-reason').value = '';
  $('shift-by').value = localStorage.getItem(BY_KEY) || '';
  $('shift-preview').replaceChildren();
  $('shift-apply').disabled = true;
  $('shift-dialog').showModal();
}

function setShiftPercent(value) {
  $('shift-percent').value = String(value);
  $('shift-slider').value = String(value);
}

function shiftBody(dryRun) {
  return { backend: $('shift-backend').value, percent: $('shift-percent').value, reason: $('shift-reason').value, by: $('shift-by').value, dryRun };
}

function invalidatePreview() {
  $('shift-apply').disabled = true;
  $('shift-preview').replaceChildren();
}

function estimateText(result) {
  const estimate = result.estimate;
  return estimate.groups.map((g) => {
    const name = g.routes.length === 1 && g.routes[0] === g.group ? g.routes[0] : `Group ${g.group} (${g.routes.join(', ')})`;
    if (g.recent && g.recent.clients > 0) {
      return `${name}: ${g.recent.moved} of ${g.recent.clients} recent clients (${percent(g.recent.moved / g.recent.clients)}) change backend`;
    }
    return `${name}: about ${percent(g.expectedShare)} of its clients change backend${estimate.unavailable ? '' : ' (no recent clients seen)'}`;
  });
}

function diffView(diff) {
  const pre = el('pre', {});
  for (const line of diff.trimEnd().split('\n')) {
    const kind = line.startsWith('@@')
      ? 'hunk'
      : line.startsWith('+') && !line.startsWith('+++')
        ? 'add'
        : line.startsWith('-') && !line.startsWith('---')
          ? 'del'
          : null;
    pre.append(el('span', { class: kind }, `${line}\n`));
  }
  return pre;
}

function showProblem(target, error) {
  $(target).replaceChildren(el('div', { class: 'problem', role: 'alert' }, error.message));
}

async function previewShift() {
  try {
    const result = await api(`/api/routes/${encodeURIComponent(state.shiftRoute.name)}/split`, shiftBody(true));
    if (result.changes.length === 0) {
      $('shift-preview').replaceChildren(el('div', { class: 'estimate' }, 'Nothing to change: the route already has this split.'));
      return;
    }
    const lines = estimateText(result);
    $('shift-preview').replaceChildren(
      el(
        'div',
        { class: 'estimate', 'data-testid': 'estimate' },
        el('strong', {}, lines[0]),
        ...lines.slice(1).map((line) => el('div', {}, line)),
        ...result.notes.map((note) => el('div', { class: 'muted' }, note)),
      ),
      diffView(result.diff),
    );
    $('shift-apply').disabled = false;
  } catch (error) {
    showProblem('shift-preview', error);
  }
}

async function applyShift() {
  localStorage.setItem(BY_KEY, $('shift-by').value);
  $('shift-apply').disabled = true;
  try {
    await api(`/api/routes/${encodeURIComponent(state.shiftRoute.name)}/split`, shiftBody(false));
    $('shift-dialog').close();
    await refresh();
  } catch (error) {
    showProblem('shift-preview', error);
  }
}

// ---- panic ------------------------------------------------------------------------------

async function openPanic() {
  const routes = (state.stats?.routes || []).filter((r) => r.deny === null && Object.entries(r.split).some(([b, p]) => b !== state.legacy && p > 0));
  $('panic-route').replaceChildren(
    el('option', { value: '' }, 'All routes'),
    ...routes.map((r) => el('option', { value: r.name }, `${r.name}${r.group !== r.name ? ` (group ${r.group})` : ''}`)),
  );
  $('panic-reason').value = '';
  $('panic-dialog').showModal();
  await previewPanic();
}

function panicBody(dryRun) {
  const route = $('panic-route').value;
  return { ...(route ? { route } : { all: true }), reason: $('panic-reason').value, by: localStorage.getItem(BY_KEY) || '', dryRun };
}

async function previewPanic() {
  try {
    const result = await api('/api/panic', panicBody(true));
    $('panic-preview').replaceChildren(
      result.changes.length === 0
        ? el('div', { class: 'estimate' }, 'Everything is already on legacy.')
        : el(
            'div',
            { class: 'estimate' },
            el('strong', {}, `${result.changes.length} route${result.changes.length === 1 ? '' : 's'} go back to ${state.legacy}`),
            ...estimateText(result).map((line) => el('div', {}, line)),
          ),
    );
  } catch (error) {
    showProblem('panic-preview', error);
  }
}

async function applyPanic() {
  try {
    await api('/api/panic', panicBody(false));
    $('panic-dialog').close();
    await refresh();
  } catch (error) {
    showProblem('panic-preview', error);
  }
}

// ---- wiring -----------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('routes').addEventListener('click', (event) => {
    const button = event.target.closest('[data-shift]');
    if (button) openShift(button.dataset.shift);
  });
  $('shift-backend').addEventListener('change', () => {
    setShiftPercent(state.shiftRoute.split[$('shift-backend').value] ?? 0);
    invalidatePreview();
  });
  $('shift-slider').addEventListener('input', () => {
    $('shift-percent').value = $('shift-slider').value;
    invalidatePreview();
  });
  $('shift-percent').addEventListener('input', () => {
    $('shift-slider').value = $('shift-percent').value;
    invalidatePreview();
  });
  $('shift-check').addEventListener('click', previewShift);
  $('shift-apply').addEventListener('click', applyShift);
  $('shift-cancel').addEventListener('click', () => $('shift-dialog').close());
  $('panic-open').addEventListener('click', openPanic);
  $('panic-route').addEventListener('change', previewPanic);
  $('panic-apply').addEventListener('click', applyPanic);
  $('panic-cancel').addEventListener('click', () => $('panic-dialog').close());
  $('token-form').addEventListener('submit', () => {
    sessionStorage.setItem(TOKEN_KEY, $('token-input').value);
    void refresh();
  });
  void refresh();
  setInterval(() => {
    // Polling pauses while a dialog is open, so the form under the operator's hands stays put.
    if (!document.querySelector('dialog[open]') && !state.rolloutsOnly) void refresh();
  }, POLL_MS);
});
