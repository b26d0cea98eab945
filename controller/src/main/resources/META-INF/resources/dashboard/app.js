// The buildfarm dashboard: one page, no build step. Data from /dashboard/api/*, live updates from
// the server-sent events of /dashboard/api/events (the controller's build and agent events).
'use strict';

const API = '/dashboard/api/';
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/arm/v6'];
const COLORS = { 'linux/amd64': '#1f6feb', 'linux/arm64': '#1a7f37', 'linux/arm/v7': '#bf8700', 'linux/arm/v6': '#8250df' };
const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

const builds = new Map();   // name → Build (protobuf JSON)
let agents = [];
let openBuild = null;        // name of the build page shown, if any
let logTimer = null;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => (k === 'text' ? (node.textContent = v) : node.setAttribute(k, v)));
  children.forEach((c) => node.append(c));
  return node;
};
const getJson = async (path, init) => {
  const response = await fetch(API + path, init);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
};
const seconds = (t) => (t ? Date.parse(t) / 1000 : null);
const duration = (s) => (s < 60 ? `${Math.round(s)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`);

function elapsed(p) {
  const start = seconds(p.startTime) ?? seconds(p.createTime);
  const end = seconds(p.endTime) ?? Date.now() / 1000;
  return start ? duration(Math.max(0, end - start)) : '';
}

function chip(p) {
  const mode = p.agent ? (p.emulated ? 'emulated' : 'native') : '';
  const words = [p.platform, (p.state === 'SUCCEEDED' ? 'pushed' : (p.state || '').toLowerCase()), mode, elapsed(p)].filter(Boolean);
  return el('span', { class: 'chip', 'data-platform': p.platform, 'data-state': p.state || 'QUEUED',
    title: p.failureReason || p.agent || '', text: words.join(' · ') });
}

function renderBuilds() {
  const body = $('builds').querySelector('tbody');
  const rows = [...builds.values()].sort((a, b) => (b.createTime || '').localeCompare(a.createTime || ''));
  body.replaceChildren(...rows.slice(0, 50).map((b) => {
    const id = b.name.split('/')[1];
    const chips = el('div', { class: 'chips' }, ...(b.platformBuilds || []).map(chip));
    return el('tr', { 'data-build': b.name, 'data-state': b.state },
      el('td', {}, el('a', { href: `#/builds/${id}`, text: b.name })),
      el('td', {}, el('span', { class: 'state', text: b.state })),
      el('td', { text: `${b.spec.repository}:${(b.spec.tags || []).join(',')}` }),
      el('td', {}, chips),
      el('td', { text: b.createTime ? new Date(b.createTime).toLocaleTimeString() : '' }));
  }));
}

function renderAgents() {
  $('agents').replaceChildren(...agents.map((a) => el('div', { class: 'agent', 'data-agent': a.name, 'data-state': a.state },
    el('div', {}, el('span', { class: 'name', text: a.name }), ' ', el('span', { class: (a.state || '').toLowerCase(), text: a.state })),
    el('table', {}, ...(a.platforms || []).map((p) => el('tr', { 'data-platform': p.platform },
      el('td', { text: p.platform }), el('td', { text: p.emulated ? 'emulated' : 'native' }),
      el('td', { class: a.state === 'LOST' ? 'lost' : p.busy ? 'busy' : 'idle',
        text: (a.state === 'LOST' ? 'lost' : p.busy ? 'busy' : 'idle') + (p.slots > 1 ? ` ${p.running || 0}/${p.slots}` : '') })))))));
}

async function renderQueue() {
  const { samples } = await getJson('queue');
  const svg = $('queue');
  const w = 400, h = 140, pad = 20;
  const max = Math.max(1, ...samples.flatMap((s) => PLATFORMS.map((p) => s.queued[p] || 0)));
  const x = (i) => pad + (samples.length < 2 ? 0 : (i * (w - 2 * pad)) / (samples.length - 1));
  const y = (v) => h - pad - (v * (h - 2 * pad)) / max;
  const ns = 'http://www.w3.org/2000/svg';
  const shapes = [];
  const axis = document.createElementNS(ns, 'text');
  axis.setAttribute('x', 2); axis.setAttribute('y', pad - 6); axis.setAttribute('font-size', 10); axis.textContent = `max ${max}`;
  shapes.push(axis);
  for (const p of PLATFORMS) {
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('fill', 'none'); line.setAttribute('stroke', COLORS[p]); line.setAttribute('stroke-width', 2);
    line.setAttribute('data-platform', p);
    line.setAttribute('points', samples.map((s, i) => `${x(i)},${y(s.queued[p] || 0)}`).join(' '));
    shapes.push(line);
  }
  svg.replaceChildren(...shapes);
  const last = samples[samples.length - 1];
  $('queue-legend').replaceChildren(...PLATFORMS.map((p) => el('span', { style: `color:${COLORS[p]}`, 'data-platform': p,
    text: `${p}: ${last ? last.queued[p] || 0 : 0}` })));
}

function renderBuildPage() {
  const b = builds.get(openBuild);
  if (!b) return;
  $('build-name').textContent = b.name;
  $('build-state').textContent = b.state;
  $('build-state').dataset.state = b.state;
  $('build-image').textContent = `${b.spec.repository}:${(b.spec.tags || []).join(',')}` + (b.indexDigest ? ` @ ${b.indexDigest}` : '');
  $('build-reason').textContent = b.failureReason || '';
  $('build-chips').replaceChildren(...(b.platformBuilds || []).map(chip));
  $('cancel').disabled = FINAL.includes(b.state) || b.state === 'PUBLISHING';
}

/** Each platform's log, appended from the last offset read until that platform is final. */
function followLogs(name) {
  const id = name.split('/')[1];
  const build = builds.get(name);
  const offsets = {};
  const done = {};
  $('logs').replaceChildren(...build.platformBuilds.map((p) => el('div', { class: 'log', 'data-platform': p.platform },
    el('h3', { text: p.platform }), el('pre', { 'data-platform': p.platform }))));
  const poll = async () => {
    if (openBuild !== name) return;
    for (const p of builds.get(name).platformBuilds) {
      if (done[p.platform]) continue;
      try {
        const page = await getJson(`builds/${id}/logs?platform=${encodeURIComponent(p.platform)}&offset=${offsets[p.platform] || 0}`);
        const pre = document.querySelector(`pre[data-platform="${p.platform}"]`);
        if (page.lines.length) {
          const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
          pre.append(page.lines.map((l) => l.text).join('\n') + '\n');
          offsets[p.platform] = page.lines[page.lines.length - 1].offset + 1;
          if (atBottom) pre.scrollTop = pre.scrollHeight;
        } else if (page.final) {
          done[p.platform] = true;
        }
      } catch (e) { /* the next poll tries again */ }
    }
    logTimer = setTimeout(poll, 1000);
  };
  poll();
}

async function route() {
  clearTimeout(logTimer);
  const match = location.hash.match(/^#\/builds\/([0-9a-f-]+)$/);
  $('overview').hidden = !!match;
  $('build-page').hidden = !match;
  $('cancel-result').textContent = '';
  if (!match) { openBuild = null; return; }
  openBuild = `builds/${match[1]}`;
  if (!builds.has(openBuild)) builds.set(openBuild, await getJson(`builds/${match[1]}`));
  renderBuildPage();
  followLogs(openBuild);
}

function onEvent(event) {
  if (event.build && event.build.name) {
    builds.set(event.build.name, event.build);
    renderBuilds();
    if (event.build.name === openBuild) renderBuildPage();
  }
  if (event.agent && event.agent.name) {
    agents = [...agents.filter((a) => a.name !== event.agent.name), event.agent].sort((a, b) => a.name.localeCompare(b.name));
    renderAgents();
  }
}

function connect() {
  const source = new EventSource(API + 'events');
  source.onopen = async () => {
    // Whatever happened while disconnected: load the current state again, then say we are live.
    (await getJson('builds')).builds.forEach((b) => builds.set(b.name, b));
    agents = (await getJson('agents')).agents || [];
    renderBuilds(); renderAgents();
    if (openBuild) { builds.set(openBuild, await getJson(`builds/${openBuild.split('/')[1]}`)); renderBuildPage(); }
    $('live').textContent = 'live'; $('live').classList.add('on');
  };
  source.onmessage = (m) => onEvent(JSON.parse(m.data));
  source.onerror = () => { $('live').textContent = 'reconnecting…'; $('live').classList.remove('on'); };
}

$('cancel').addEventListener('click', async () => {
  try {
    const b = await getJson(`builds/${openBuild.split('/')[1]}/cancel`, { method: 'POST' });
    builds.set(b.name, b);
    renderBuildPage();
    $('cancel-result').textContent = 'cancelled';
  } catch (e) {
    $('cancel-result').textContent = e.message;
  }
});
// The farm's API token: asked for once, kept in this browser's localStorage and in a cookie, which
// the event stream (EventSource cannot send headers) and every fetch carry.
const TOKEN_KEY = 'buildfarm_token';
function keepToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
  document.cookie = `${TOKEN_KEY}=${encodeURIComponent(token)}; path=/dashboard; SameSite=Strict`;
}
async function ensureToken() {
  const saved = localStorage.getItem(TOKEN_KEY);
  if (saved) keepToken(saved);
  while ((await fetch(API + 'agents')).status === 401) {
    const token = prompt('API token for this farm (bf_…)');
    if (!token) return;
    keepToken(token.trim());
  }
}

window.addEventListener('hashchange', route);
ensureToken().then(() => {
  setInterval(() => { renderQueue().catch(() => {}); if (openBuild) renderBuildPage(); else renderBuilds(); }, 5000);
  connect();
  route();
  renderQueue().catch(() => {});
});
