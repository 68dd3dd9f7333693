// The inspector page: live over server-sent events from /__inspector/events, buttons that POST to
// /__inspector/*. Plain browser JavaScript, no build step. Every text from an event goes in with
// textContent (never innerHTML): a delivery's fields are whatever the sender put in them.

const deliveriesBody = document.querySelector('#deliveries tbody');
const deadLettersBody = document.querySelector('#dead-letters tbody');
const actionResult = document.getElementById('action-result');
const connection = document.getElementById('connection');
const rows = new Map();

/** An element with attributes and children (strings become text nodes). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function clock(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

const STATE_TONE = {
  queued: 'info',
  processing: 'info',
  redriven: 'info',
  retrying: 'warn',
  processed: 'ok',
  duplicate: 'ok',
  completed: 'ok',
  quarantined: 'warn',
  conflicting: 'warn',
  refused: 'bad',
  failed: 'bad',
  'dead-lettered': 'bad',
};
const SIGNATURE_TONE = { verified: 'ok', 'timestamp refused': 'warn', rejected: 'bad', 'not checked': '' };

function badge(text, tone, attributes = {}) {
  return el('span', { class: `badge ${tone ?? ''}`, ...attributes }, text);
}

async function post(route, body) {
  const response = await fetch(`/__inspector/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = { message: text };
  }
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

/** Runs a button's action, disabling it meanwhile, and says how it went. */
async function act(button, what, action) {
  button.disabled = true;
  actionResult.textContent = `${what} …`;
  try {
    const answer = await action();
    actionResult.textContent = `${what}: ${answer.status ? `answered ${answer.status} ${answer.answer ?? ''}` : 'done'}`;
  } catch (error) {
    actionResult.textContent = `${what} failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

/** One button per sample type; a type the runtime cannot send here (media without the sample media host) is disabled, saying why. */
function renderSendButtons(types, unavailable = {}) {
  const holder = document.getElementById('send-buttons');
  holder.replaceChildren(
    ...types.map((type) => {
      const why = unavailable[type];
      const button = el('button', { type: 'button', 'data-send': type, disabled: Boolean(why), title: why }, type);
      if (!why) button.addEventListener('click', () => act(button, `send ${type}`, () => post('send', { type })));
      return button;
    }),
  );
  const note = document.getElementById('send-note');
  note.hidden = Object.keys(unavailable).length === 0;
  note.textContent = note.hidden
    ? ''
    : 'Media samples are disabled: no sample media host runs here (with npm run dev --public-url, media comes from FaceSign). Hover a button for how to send one.';
}

/** The stored image, served by the runtime from the local archive; marked once it has loaded. */
function storedImage(d) {
  const img = el('img', { src: `/__inspector/media?delivery=${d.id}`, alt: `stored ${d.eventType ?? 'media'}`, class: 'thumbnail' });
  img.addEventListener('load', () => (img.dataset.loaded = 'true'));
  img.addEventListener('error', () => img.replaceWith(el('span', { class: 'dim' }, 'thumbnail unavailable')));
  return img;
}

function pipeline(d) {
  const steps = el(
    'ol',
    { class: 'steps' },
    d.steps.map((s) => el('li', { 'data-step': s.step }, el('time', {}, clock(s.at)), s.text)),
  );
  const parts = [steps];
  if (d.media) {
    const info = el(
      'div',
      {},
      el('div', {}, `${d.media.contentType}, ${d.media.bytes.toLocaleString('en')} bytes`),
      el('div', { class: 'mono', title: 'SHA-256' }, `sha256 ${d.media.sha256}`),
      el('div', { class: 'mono' }, d.media.key),
    );
    const thumbnail = d.media.thumbnail ? storedImage(d) : null;
    parts.push(el('div', { class: 'media' }, thumbnail, info));
  }
  if (d.published) {
    parts.push(
      el('details', {}, el('summary', {}, `EventBridge detail (${d.published.detailType})`), el('pre', {}, JSON.stringify(d.published.detail, null, 2))),
    );
  }
  if (d.event !== undefined) {
    parts.push(el('details', {}, el('summary', {}, 'event (URL queries removed)'), el('pre', {}, JSON.stringify(d.event, null, 2))));
  }
  return parts;
}

function deliveryRow(d) {
  const resend = el(
    'button',
    { type: 'button', 'data-resend': d.id, disabled: !d.resendable, title: d.resendable ? 'send the same bytes and headers again' : 'body too large to keep' },
    'Resend',
  );
  resend.addEventListener('click', () => act(resend, `resend #${d.id}`, () => post('resend', { delivery: d.id })));
  const state = d.state === 'processing' || d.state === 'retrying' ? `${d.state} (attempt ${d.attempt ?? 1})` : d.state;
  return el(
    'tr',
    {
      'data-delivery': d.id,
      'data-event-id': d.eventId,
      'data-status': d.answer.status,
      'data-state': d.state,
      'data-signature': d.signature,
    },
    el('td', { class: 'mono' }, `#${d.id}`, d.resendOf ? el('div', { class: 'dim' }, `resend of #${d.resendOf}`) : null),
    el('td', { class: 'mono' }, clock(d.receivedAt)),
    el(
      'td',
      {},
      el('div', { class: 'event-type' }, d.eventType ?? '(no type)'),
      el(
        'div',
        { class: 'ids' },
        el('span', {}, 'event'),
        el('span', { class: 'mono' }, d.eventId ?? '—'),
        el('span', {}, 'session'),
        el('span', { class: 'mono' }, d.sessionId ?? '—'),
      ),
    ),
    el(
      'td',
      {},
      badge(String(d.answer.status), d.answer.status === 200 ? 'ok' : d.answer.status >= 500 ? 'warn' : 'bad', { 'data-answer': d.answer.status }),
      d.answer.error ? el('div', { class: 'mono' }, d.answer.error) : null,
      d.answer.message ? el('div', { class: 'dim' }, d.answer.message) : null,
      el('div', { class: 'dim' }, `${d.answer.durationMs} ms, ${d.bytes.toLocaleString('en')} bytes`),
    ),
    el('td', {}, badge(d.signature, SIGNATURE_TONE[d.signature])),
    el(
      'td',
      {},
      badge(state, STATE_TONE[d.state], { 'data-state-badge': d.state }),
      d.deadLetter ? el('div', { class: 'mono' }, d.deadLetter.reason) : null,
      d.retry && d.state === 'retrying' ? el('div', { class: 'mono' }, d.retry.reason) : null,
    ),
    el('td', {}, pipeline(d)),
    el('td', {}, resend),
  );
}

function showDelivery(d, fresh) {
  const row = deliveryRow(d);
  const old = rows.get(d.id);
  if (old) old.replaceWith(row);
  else {
    deliveriesBody.prepend(row);
    if (fresh) row.classList.add('fresh');
  }
  rows.set(d.id, row);
  document.getElementById('deliveries').hidden = false;
  document.getElementById('no-deliveries').hidden = true;
  document.getElementById('delivery-count').textContent = String(rows.size);
}

function showDeadLetters(list) {
  deadLettersBody.replaceChildren(
    ...list
      .slice()
      .reverse()
      .map((m) => {
        const redrive = el('button', { type: 'button', 'data-redrive': m.messageId }, 'Redrive');
        redrive.addEventListener('click', () => act(redrive, `redrive ${m.eventId ?? m.messageId}`, () => post('redrive', { messageId: m.messageId })));
        return el(
          'tr',
          { 'data-dead-letter': m.messageId, 'data-event-id': m.eventId },
          el('td', { class: 'mono' }, m.failedAt ? clock(m.failedAt) : '—'),
          el('td', {}, el('div', { class: 'event-type' }, m.eventType ?? '(unknown)'), el('div', { class: 'mono dim' }, m.eventId ?? '—')),
          el('td', {}, badge(m.failureReason, 'bad')),
          el('td', {}, m.attempts ?? '—'),
          el('td', { class: 'mono dim' }, m.messageId),
          el('td', {}, redrive),
        );
      }),
  );
  document.getElementById('dead-letters').hidden = list.length === 0;
  document.getElementById('no-dead-letters').hidden = list.length > 0;
  document.getElementById('dead-letter-count').textContent = String(list.length);
}

function connect() {
  const source = new EventSource('/__inspector/events');
  source.addEventListener('open', () => {
    connection.dataset.state = 'live';
    connection.textContent = 'live';
  });
  source.addEventListener('error', () => {
    connection.dataset.state = 'reconnecting';
    connection.textContent = 'reconnecting…';
  });
  source.addEventListener('snapshot', (message) => {
    const state = JSON.parse(message.data);
    document.getElementById('webhook-url').textContent = `${location.origin}${state.webhookPath}`;
    document.getElementById('public-url').textContent = state.publicWebhookUrl ?? '';
    document.getElementById('public-url-line').hidden = !state.publicWebhookUrl;
    renderSendButtons(state.sampleTypes, state.unavailableSamples);
    deliveriesBody.replaceChildren();
    rows.clear();
    for (const d of state.deliveries) showDelivery(d, false);
    showDeadLetters(state.deadLetters);
  });
  source.addEventListener('delivery', (message) => showDelivery(JSON.parse(message.data), true));
  source.addEventListener('dead-letters', (message) => showDeadLetters(JSON.parse(message.data)));
}

connect();
