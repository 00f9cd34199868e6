// The console's page: reads /api/state every two seconds and draws it; actions post to /api/action.
// Everything shown comes from the registry or from admin listeners, and is written as text only
// (textContent, never HTML), so a hostile provider parameter shows as what it is.
/* global document, window, fetch, URLSearchParams, setTimeout */

const CHANGE_HEADER = 'x-switchyard-console';
const REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);

/** An element with attributes (`class`, `data-*`, properties for the rest) and text or element children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class' || name.startsWith('data-')) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) node.append(child instanceof window.Node ? child : document.createTextNode(String(child)));
  return node;
}

function say(text, isError = false) {
  $('message').textContent = text;
  $('message').className = isError ? 'error' : '';
}

class LoginNeeded extends Error {}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers[CHANGE_HEADER] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) throw new LoginNeeded(answer.message);
  if (!response.ok) throw new Error(`${answer.code ?? response.status}: ${answer.message ?? response.statusText}`);
  return answer;
}

let state;

async function refresh() {
  try {
    state = await api('GET', '/api/state');
    $('login').hidden = true;
    draw(state);
  } catch (error) {
    if (error instanceof LoginNeeded) {
      $('login').hidden = false;
      $('login-failed').hidden = new URLSearchParams(window.location.search).get('login') !== 'failed';
      return;
    }
    say(`cannot read the console's state: ${error.message}`, true);
  } finally {
    if (!$('login').hidden) $('token').focus();
    else setTimeout(refresh, REFRESH_MS);
  }
}

function draw(s) {
  $('registry').textContent = s.registry;
  $('mode').hidden = !s.readOnly;
  $('logout').hidden = false;
  const notes = [];
  if (s.problem) notes.push(s.problem);
  if (!s.rulesAvailable) notes.push('This registry keeps no rules: the actions are not available.');
  if (!s.consumersRecorded) notes.push('This registry does not record consumers: only clients whose admin listener was given with --admin are shown as consumers.');
  $('notes').textContent = notes.join(' ');
  const actions = s.rulesAvailable && !s.readOnly;
  drawServices(s.services, actions);
  drawAdmins(s.admins);
  $('rules').hidden = !s.rulesAvailable;
  $('rule-editor').hidden = !actions;
  if (s.rulesAvailable) drawRules(actions).catch((error) => say(`cannot list the rules: ${error.message}`, true));
}

/** Keeps one child per key in `parent`, made once by `make`, in the order of `keys`; drops the rest. */
function keyed(parent, attribute, keys, make) {
  const existing = new Map([...parent.children].map((child) => [child.getAttribute(attribute), child]));
  const kept = keys.map((key) => existing.get(key) ?? make(key));
  parent.replaceChildren(...kept);
  return kept;
}

const COLUMNS = ['Address', 'Version', 'Group', 'Weight', 'Tags', 'State', 'Calls', 'Calls/s', 'Errors/s', 'p99 ms', 'Breakers', 'Parameters'];

function drawServices(services, actions) {
  if (services.length === 0) {
    $('services').replaceChildren(el('p', { class: 'note' }, 'The registry lists no service.'));
    return;
  }
  const sections = keyed($('services'), 'data-service', services.map((s) => s.name), (name) => {
    const head = el('tr', {}, ...COLUMNS.map((c) => el('th', {}, c)), el('th', { class: 'actions' }, 'Actions'));
    return el('section', { class: 'service', 'data-service': name }, el('h2', {}, name),
      el('table', { class: 'providers' }, el('thead', {}, head), el('tbody')),
      el('h3', {}, 'Consumers'), el('ul', { class: 'consumers' }),
      el('h3', {}, 'Timeouts'), el('ul', { class: 'timeouts' }), timeoutForm(name));
  });
  services.forEach((service, i) => drawService(sections[i], service, actions));
}

function drawService(section, service, actions) {
  section.querySelectorAll('th.actions').forEach((th) => (th.hidden = !actions));
  const rows = keyed(section.querySelector('tbody'), 'data-provider', service.providers.map((p) => p.id), (id) => providerRow(id));
  service.providers.forEach((provider, i) => drawProvider(rows[i], provider, actions));
  if (service.providers.length === 0) section.querySelector('tbody').replaceChildren(el('tr', {}, el('td', { colSpan: COLUMNS.length }, 'no providers')));
  const consumers = service.consumers.map((c) => el('li', {}, c.url, el('span', { class: 'note' }, c.from === 'admin' ? '  (client admin listener)' : '  (registry)')));
  section.querySelector('.consumers').replaceChildren(...(consumers.length > 0 ? consumers : [el('li', { class: 'note' }, 'none known')]));
  const timeouts = service.timeouts.map((t) => el('li', {}, `${t.ruleKey}  ${t.method ?? '(every method)'}: ${t.timeoutMs} ms `,
    actions ? el('button', { type: 'button', onclick: () => act({ action: 'timeout', service: keyOf(service, t.ruleKey), method: t.method ?? null, timeoutMs: null }) }, 'Clear') : ''));
  section.querySelector('.timeouts').replaceChildren(...(timeouts.length > 0 ? timeouts : [el('li', { class: 'note' }, 'none set by rules')]));
  const form = section.querySelector('form.timeout');
  form.hidden = !actions;
  fillSelect(form.elements.key, service.ruleKeys.map((key) => [key, key]));
  const methods = [...new Set(service.providers.flatMap((p) => p.methods))].sort();
  fillSelect(form.elements.method, [['', '(every method)'], ...methods.map((m) => [m, m])]);
  form.service = service;
}

/** Sets a select's options, only when they changed: a redraw must not undo the operator's choice. */
function fillSelect(select, options) {
  const signature = JSON.stringify(options);
  if (select.dataset.options === signature) return;
  const chosen = select.value;
  select.replaceChildren(...options.map(([value, label]) => el('option', { value }, label)));
  select.dataset.options = signature;
  if (options.some(([value]) => value === chosen)) select.value = chosen;
}

function timeoutForm(name) {
  const form = el('form', { class: 'timeout', 'data-for': name },
    el('select', { name: 'key' }), ' ', el('select', { name: 'method' }), ' ',
    el('input', { type: 'number', name: 'ms', min: 1, placeholder: 'ms', required: true }), ' ',
    el('button', { type: 'submit' }, 'Set timeout'));
  form.onsubmit = (event) => {
    event.preventDefault();
    const method = form.elements.method.value;
    void act({ action: 'timeout', service: keyOf(form.service, form.elements.key.value), method: method === '' ? null : method, timeoutMs: Number(form.elements.ms.value) });
  };
  return form;
}

/** The service key (name, version, group) of a rule key, from a provider that has it. */
function keyOf(service, ruleKey) {
  return service.providers.find((p) => p.ruleKey === ruleKey)?.service ?? { name: service.name };
}

function providerRow(id) {
  const cells = COLUMNS.map((column) => el('td', { class: column.toLowerCase().replace(/[^a-z0-9]+/g, '-') }));
  for (const i of [6, 7, 8, 9]) cells[i].classList.add('num');
  const toggle = el('button', { type: 'button', class: 'toggle' });
  const weight = el('input', { type: 'number', min: 0, max: 100000, class: 'weight-input', placeholder: 'weight' });
  const setWeight = el('button', { type: 'button', class: 'set-weight' }, 'Set');
  const resetWeight = el('button', { type: 'button', class: 'reset-weight' }, 'Reset');
  const actions = el('td', { class: 'actions' }, toggle, ' ', weight, setWeight, resetWeight);
  return el('tr', { 'data-provider': id }, ...cells, actions);
}

function drawProvider(row, p, actions) {
  const [address, version, group, weight, tags, stateCell, calls, rate, errors, p99, breakers, params] = row.children;
  address.textContent = p.address;
  version.textContent = p.service.version ?? '-';
  group.textContent = p.service.group ?? '-';
  weight.textContent = p.ruleWeight === null ? String(p.weight) : `${p.weight} → ${p.ruleWeight} (rule)`;
  tags.textContent = p.tags.join(', ') || '-';
  stateCell.replaceChildren(el('span', { class: `badge ${p.state}` }, p.state === 'disabled' ? 'disabled by rule' : 'enabled'));
  if (p.ruleProblem) stateCell.append(el('div', { class: 'error', title: p.ruleProblem }, 'rules do not parse'));
  row.className = p.state;
  const stats = p.stats;
  calls.textContent = stats === null ? '-' : String(stats.calls);
  rate.textContent = number(stats?.callsPerSecond);
  errors.textContent = number(stats?.errorsPerSecond);
  p99.textContent = number(stats?.p99Ms);
  calls.title = p.statsProblem ?? `from ${p.admin}`;
  const shown = p.seenBy.flatMap((seen) => seen.breakers.map((b) => el('div', {}, `${b.method}: `, el('span', { class: `badge ${b.state.toLowerCase()}` }, b.state))));
  breakers.replaceChildren(...(shown.length > 0 ? shown : [p.seenBy.length > 0 ? 'closed' : '-']));
  const list = Object.entries(p.params).map(([key, value]) => `${key}=${value}`).join('\n');
  const open = params.querySelector('details')?.open ?? false;
  params.replaceChildren(el('details', { open }, el('summary', {}, `${Object.keys(p.params).length} more`), el('pre', {}, `${p.url}\n\n${list}`)));
  const cell = row.lastChild;
  cell.hidden = !actions;
  const [toggle, input, set, reset] = cell.querySelectorAll('button, input');
  const disable = p.state !== 'disabled';
  toggle.textContent = disable ? 'Disable' : 'Enable';
  toggle.onclick = () => act({ action: disable ? 'disable' : 'enable', service: p.service, address: p.hostPort });
  set.onclick = () => (input.value === '' ? say('give a weight first', true) : act({ action: 'weight', service: p.service, address: p.hostPort, weight: Number(input.value) }));
  reset.onclick = () => act({ action: 'weight', service: p.service, address: p.hostPort, weight: null });
  reset.disabled = p.ruleWeight === null;
}

function number(value) {
  return value === null || value === undefined ? '-' : value.toFixed(value >= 100 ? 0 : 1);
}

async function act(body) {
  try {
    const result = await api('POST', '/api/action', body);
    say([`${body.action}: wrote ${result.id.key}.${result.id.kind}`, ...result.warnings].join('. '));
    await refreshSoon();
  } catch (error) {
    say(`${body.action} failed: ${error.message}`, true);
  }
}

let redraw;
function refreshSoon() {
  redraw ??= api('GET', '/api/state').then((s) => draw((state = s))).catch(() => {}).finally(() => (redraw = undefined));
  return redraw;
}

function drawAdmins(admins) {
  const rows = admins.map((a) => el('tr', {}, el('td', {}, a.url), el('td', {}, a.kind), el('td', { class: a.ok ? '' : 'error' }, a.ok ? (a.error ?? 'ok') : a.error)));
  $('admins').querySelector('tbody').replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colSpan: 3, class: 'note' }, 'none announced or given'))]));
}

let rulesRead = 0;
async function drawRules(actions) {
  if (Date.now() - rulesRead < 5 * REFRESH_MS) return;
  rulesRead = Date.now();
  const { rules } = await api('GET', '/api/rules');
  const keys = new Set(rules.map((r) => r.key));
  for (const s of state.services) for (const key of s.ruleKeys) keys.add(key);
  fillSelect($('rule-keys'), [...keys].sort().map((k) => [k, k]));
  if (rules.length === 0) $('rule-list').querySelector('tbody').replaceChildren(el('tr', {}, el('td', { colSpan: 3, class: 'note' }, 'the registry holds no rule')));
  else $('rule-list').querySelector('tbody').replaceChildren(...rules.map((rule) => {
    const editable = actions && rule.kind !== 'configurators';
    return el('tr', { 'data-rule': `${rule.key}.${rule.kind}` }, el('td', {}, rule.kind), el('td', {}, rule.key), el('td', {},
      el('button', { type: 'button', onclick: () => showRule(rule, editable) }, editable ? 'Edit' : 'View'), ' ',
      editable ? el('button', { type: 'button', class: 'delete', onclick: () => removeRule(rule) }, 'Remove') : ''));
  }));
}

async function showRule(rule, editable) {
  const { text } = await api('GET', `/api/rule?${new URLSearchParams(rule)}`);
  if (!editable) {
    $('rule-view').hidden = false;
    $('rule-view').textContent = `${rule.key}.${rule.kind}\n\n${text ?? '(removed)'}`;
    return;
  }
  $('rule-kind').value = rule.kind;
  $('rule-key').value = rule.key;
  $('rule-text').value = text ?? '';
}

async function removeRule(rule) {
  try {
    await api('DELETE', `/api/rule?${new URLSearchParams(rule)}`);
    say(`removed ${rule.key}.${rule.kind}`);
    rulesRead = 0;
  } catch (error) {
    say(`removing ${rule.key}.${rule.kind} failed: ${error.message}`, true);
  }
}

const TEMPLATES = {
  'condition-router': 'configVersion: v3.0\nscope: service\nkey: demo.Calculator\nenabled: true\nforce: false\nruntime: true\nconditions:\n  - method = add => host = 127.0.0.1\n',
  'tag-router': 'configVersion: v3.0\nkey: my-application\nenabled: true\nforce: false\nruntime: true\ntags:\n  - name: gray\n    addresses: ["127.0.0.1:20880"]\n',
};

function setUpEditor() {
  const template = () => {
    if ($('rule-text').value.trim() === '' || Object.values(TEMPLATES).includes($('rule-text').value)) $('rule-text').value = TEMPLATES[$('rule-kind').value];
  };
  $('rule-kind').onchange = template;
  template();
  $('rule-check').onclick = async () => {
    try {
      const check = await api('POST', '/api/check', { kind: $('rule-kind').value, text: $('rule-text').value });
      say(check.ok ? `the rule is valid (checked by the ${check.checkedBy === 'parser' ? 'rule parser' : 'YAML check'})` : `not valid: ${check.message}`, !check.ok);
    } catch (error) {
      say(`check failed: ${error.message}`, true);
    }
  };
  $('rule-editor').onsubmit = async (event) => {
    event.preventDefault();
    const rule = { kind: $('rule-kind').value, key: $('rule-key').value.trim() };
    try {
      await api('PUT', '/api/rule', { ...rule, text: $('rule-text').value });
      say(`saved ${rule.key}.${rule.kind}`);
      rulesRead = 0;
    } catch (error) {
      say(`saving failed: ${error.message}`, true);
    }
  };
}

setUpEditor();
void refresh();
