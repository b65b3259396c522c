// The live viewer: reads every stored event from the relay's stream (/events/stream) and
// shows them grouped by session, with per-type counts, Web Vitals at p75 and the relay's
// delivery status (/status). Renders any event type and any field, known or not.
'use strict';

const TYPES = ['pageview', 'event', 'identify', 'vital', 'error', 'engagement'];
/** The "good" and "poor" boundaries of each metric, as Web Vitals defines them (CLS unitless, the rest ms). */
const THRESHOLDS = {
  LCP: [2500, 4000],
  FCP: [1800, 3000],
  INP: [200, 500],
  CLS: [0.1, 0.25],
  TTFB: [800, 1800],
};
const RATINGS = ['good', 'needs-improvement', 'poor'];
/** Fields shown in every row already, listed last in an event's details. */
const COMMON = [
  'id',
  'type',
  'timestamp',
  'anonymousId',
  'sessionId',
  'userId',
  'url',
  'path',
  'site',
  'receivedAt',
  'time',
  'skewMs',
  'ip',
  'userAgent',
  'bot',
  'origin',
];

const seen = new Set();
const sessions = new Map();
const visitors = new Set();
const typeCounts = new Map();
const vitals = new Map();
let filter = '';
let pending = [];
let scheduled = false;

/** Builds an element: `el('td', { class: 'x' }, 'text', child)`. Text is never parsed as HTML. */
const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat(Infinity).filter((child) => child != null && child !== false));
  return node;
};
const $ = (id) => document.getElementById(id);

const pad = (n, width = 2) => String(n).padStart(width, '0');
const clock = (ms) => {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
};
const duration = (ms) =>
  ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
const metricValue = (name, value) =>
  name == 'CLS'
    ? Number(value).toFixed(3)
    : typeof value == 'number'
      ? duration(value)
      : String(value);
const plural = (n, noun) => `${n} ${noun}${n == 1 ? '' : 's'}`;
const short = (id) =>
  typeof id == 'string' && id.length > 10 ? id.slice(0, 8) + '…' : String(id ?? '—');
const typeClass = (type) => (TYPES.includes(type) ? type : 'other');
const rate = (name, value) => {
  const [good, poor] = THRESHOLDS[name] || [];
  if (good == null) return '';
  return value <= good ? 'good' : value <= poor ? 'needs-improvement' : 'poor';
};
const shortJson = (value) => (typeof value == 'string' ? value : JSON.stringify(value));

/** `{ plan: 'pro' }` → chips `plan pro`. */
const chips = (object, className = 'chip') =>
  Object.entries(object || {}).map(([key, value]) =>
    el('span', { class: className }, el('i', {}, key), ' ', shortJson(value)),
  );

/** What a row says about its event: one line, by type, with a fallback for types it does not know. */
const summary = (event) => {
  switch (event.type) {
    case 'pageview':
      return [
        el('b', {}, event.path || event.url || ''),
        event.title ? el('span', { class: 'muted' }, ' ', event.title) : null,
      ];
    case 'event':
      return [el('b', {}, event.name || '(no name)'), ' ', chips(event.properties)];
    case 'identify':
      return [el('b', {}, event.userId || ''), ' ', chips(event.traits)];
    case 'vital':
      return [
        el('b', {}, event.metricName || 'metric'),
        ' ',
        metricValue(event.metricName, event.metricValue),
        ' ',
        event.rating
          ? el('span', { class: `rating ${event.rating}` }, event.rating.replace('-', ' '))
          : null,
      ];
    case 'error':
      return [
        el('b', {}, event.errorType || 'Error'),
        ': ',
        event.message || '',
        event.count > 1 ? el('span', { class: 'chip' }, `×${event.count}`) : null,
      ];
    case 'engagement':
      return [
        el('b', {}, `${duration(event.engagementTime || 0)} engaged`),
        ` · scrolled ${Math.round(event.scrollDepth ?? 0)}% · ${event.interactionCount ?? 0} interactions`,
      ];
    default:
      return [
        el('b', {}, event.name || event.metricName || event.message || event.type || 'unknown'),
      ];
  }
};

/** Every field of an event, type-specific ones first, as a definition list. */
const details = (event) => {
  const keys = Object.keys(event).sort((a, b) => COMMON.indexOf(a) - COMMON.indexOf(b));
  return el(
    'dl',
    { class: 'fields' },
    keys.map((key) => {
      const value = event[key];
      const text =
        typeof value == 'object' && value !== null
          ? el('pre', {}, JSON.stringify(value, null, 2))
          : /^(timestamp|receivedAt|sentAt|time)$/.test(key) && typeof value == 'number'
            ? `${value}  (${new Date(value).toISOString()})`
            : String(value);
      return [el('dt', {}, key), el('dd', {}, text)];
    }),
  );
};

const eventRow = (event, session) =>
  el(
    'details',
    {
      class: `ev ${typeClass(event.type)}`,
      'data-type': event.type,
      'data-id': event.id,
      hidden: !!filter && filter != event.type,
    },
    el(
      'summary',
      {},
      el(
        'time',
        {
          datetime: new Date(event.timestamp).toISOString(),
          title: `+${duration(event.timestamp - session.first)} into the session`,
        },
        clock(event.timestamp),
      ),
      el('span', { class: `badge ${typeClass(event.type)}` }, event.type),
      el('span', { class: 'what' }, summary(event)),
      el(
        'span',
        { class: 'where' },
        event.type == 'pageview' ? event.site || '' : event.path || '',
      ),
    ),
    details(event),
  );

/** Campaign parameters and referrer that started the session, or "direct". */
const attributionLine = (attribution) => {
  if (!attribution || !Object.keys(attribution).length)
    return el(
      'div',
      { class: 'attribution direct' },
      el('span', { class: 'label' }, 'Source'),
      'direct / unknown',
    );
  return el(
    'div',
    { class: 'attribution' },
    el('span', { class: 'label' }, 'Source'),
    chips(attribution, 'chip campaign'),
  );
};

const sessionHeader = (session) => {
  const pages = new Set(
    session.events.filter((event) => event.type == 'pageview').map((event) => event.path),
  ).size;
  const user = session.events.findLast((event) => event.userId)?.userId;
  return el(
    'header',
    {},
    el(
      'div',
      { class: 'who' },
      el(
        'span',
        { class: 'sid', title: session.id },
        'Session ',
        el('code', {}, short(session.id)),
      ),
      el(
        'span',
        { class: 'muted', title: session.anonymousId },
        'visitor ',
        el('code', {}, short(session.anonymousId)),
      ),
      user ? el('span', { class: 'user' }, '● ', user) : null,
      [...session.sites].map((site) => el('span', { class: 'site' }, site)),
    ),
    el(
      'div',
      { class: 'facts' },
      `${clock(session.first).slice(0, 8)} · ${duration(session.last - session.first)} ` +
        `· ${plural(pages, 'page')} · ${plural(session.events.length, 'event')}`,
    ),
  );
};

/** The pages of a session in order (`/ → /pricing → /app/`), repeats in a row shown once. */
const journeyLine = (session) => {
  const paths = session.events
    .filter((event) => event.type == 'pageview')
    .map((event) => event.path || event.url || '?');
  const steps = paths.filter((path, i) => path != paths[i - 1]);
  return el(
    'div',
    { class: 'journey' },
    el('span', { class: 'label' }, 'Journey'),
    steps.length
      ? steps.flatMap((path, i) => [
          i ? el('span', { class: 'arrow' }, '→') : null,
          el('code', {}, path),
        ])
      : el('span', { class: 'muted' }, 'no pageview yet'),
  );
};

const renderSession = (session) => {
  session.node.querySelector('header').replaceWith(sessionHeader(session));
  session.node.querySelector('.attribution').replaceWith(attributionLine(session.attribution));
  session.node.querySelector('.journey').replaceWith(journeyLine(session));
};

/** Adds one event to its session (creating it), in timestamp order. */
const addEvent = (event) => {
  const id = event.sessionId || '(no session)';
  let session = sessions.get(id);
  if (!session) {
    session = {
      id,
      anonymousId: event.anonymousId,
      events: [],
      sites: new Set(),
      first: event.timestamp,
      last: event.timestamp,
    };
    session.list = el('div', { class: 'events' });
    session.node = el(
      'article',
      { class: 'session', 'data-session': id },
      el('header'),
      el('div', { class: 'attribution' }),
      el('div', { class: 'journey' }),
      session.list,
    );
    sessions.set(id, session);
  }
  if (event.attribution && !session.attribution) session.attribution = event.attribution;
  if (event.site) session.sites.add(event.site);
  session.first = Math.min(session.first, event.timestamp);
  session.last = Math.max(session.last, event.timestamp);
  let index = session.events.length;
  while (index > 0 && session.events[index - 1].timestamp > event.timestamp) index--;
  session.events.splice(index, 0, event);
  const row = eventRow(event, session);
  row.classList.add('fresh');
  session.list.insertBefore(row, session.list.children[index] || null);
  session.dirty = true;
};

const count = (event) => {
  typeCounts.set(event.type, (typeCounts.get(event.type) || 0) + 1);
  if (event.anonymousId) visitors.add(event.anonymousId);
  if (event.type == 'vital' && event.metricName) {
    const metric = vitals.get(event.metricName) || {
      values: [],
      ratings: { good: 0, 'needs-improvement': 0, poor: 0 },
    };
    metric.values.push(Number(event.metricValue));
    if (event.rating in metric.ratings) metric.ratings[event.rating]++;
    vitals.set(event.metricName, metric);
  }
};

const renderTypes = () => {
  const max = Math.max(1, ...typeCounts.values());
  const types = [
    ...TYPES,
    ...[...typeCounts.keys()].filter((type) => !TYPES.includes(type)).sort(),
  ];
  $('type-counts').replaceChildren(
    ...types.map((type) => {
      const n = typeCounts.get(type) || 0;
      return el(
        'li',
        {
          class: `${typeClass(type)}${filter == type ? ' active' : ''}${n ? '' : ' none'}`,
          'data-type': type,
        },
        el(
          'button',
          {
            type: 'button',
            onclick: () => setFilter(filter == type ? '' : type),
            'aria-pressed': String(filter == type),
          },
          el('span', { class: `badge ${typeClass(type)}` }, type),
          el('span', { class: 'bar' }, el('i', { style: `width:${(n / max) * 100}%` })),
          el('b', { class: 'n' }, String(n)),
        ),
      );
    }),
  );
};

/** p75 by nearest rank, as the Web Vitals reports it. */
const p75 = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.75) - 1)];
};

const renderVitals = () => {
  const names = [
    ...Object.keys(THRESHOLDS),
    ...[...vitals.keys()].filter((name) => !(name in THRESHOLDS)),
  ];
  $('vitals').tBodies[0].replaceChildren(
    ...names.map((name) => {
      const metric = vitals.get(name);
      if (!metric)
        return el(
          'tr',
          { class: 'empty-metric', 'data-metric': name },
          el('th', {}, name),
          el('td', { class: 'muted' }, '—'),
          el('td', { class: 'muted' }, '0'),
          el('td', { class: 'muted' }, 'no reports yet'),
        );
      const value = p75(metric.values);
      const total = metric.values.length;
      return el(
        'tr',
        { 'data-metric': name },
        el('th', {}, name),
        el('td', { class: `p75 ${rate(name, value)}` }, metricValue(name, value)),
        el('td', {}, String(total)),
        el(
          'td',
          {},
          el(
            'span',
            {
              class: 'ratings',
              title: RATINGS.map((r) => `${r}: ${metric.ratings[r]}`).join(', '),
            },
            RATINGS.map((r) =>
              metric.ratings[r]
                ? el(
                    'i',
                    { class: r, style: `flex:${metric.ratings[r]}` },
                    String(metric.ratings[r]),
                  )
                : null,
            ),
          ),
        ),
      );
    }),
  );
};

const setFilter = (type) => {
  filter = type;
  for (const row of document.querySelectorAll('.ev'))
    row.hidden = !!filter && row.dataset.type != filter;
  for (const session of sessions.values())
    session.node.hidden = !!filter && !session.events.some((event) => event.type == filter);
  $('clear-filter').hidden = !filter;
  renderTypes();
};

/** Applies the events received since the last frame: one layout per batch, not per event. */
const flush = () => {
  scheduled = false;
  const batch = pending;
  pending = [];
  for (const event of batch) {
    count(event);
    addEvent(event);
  }
  const ordered = [...sessions.values()].sort((a, b) => b.last - a.last);
  for (const session of ordered) {
    if (session.dirty) (renderSession(session), (session.dirty = false));
    if (filter) session.node.hidden = !session.events.some((event) => event.type == filter);
  }
  // Re-append in order: moves only what changed place, keeping open <details> open.
  const container = $('sessions');
  ordered.forEach((session, i) => {
    if (container.children[i] != session.node)
      container.insertBefore(session.node, container.children[i] || null);
  });
  $('empty').hidden = sessions.size > 0;
  $('total-events').textContent = String(seen.size);
  $('total-sessions').textContent = String(sessions.size);
  $('total-visitors').textContent = String(visitors.size);
  renderTypes();
  renderVitals();
  // The highlight of new rows fades out by CSS; drop the class so a re-render does not replay it.
  setTimeout(
    () => document.querySelectorAll('.ev.fresh').forEach((row) => row.classList.remove('fresh')),
    1600,
  );
};

/**
 * One stream message as a flat event. The relay sends the stored form, `{ site, event, receivedAt,
 * ip, userAgent, … }`; a message that is the event itself (with those fields beside) works too.
 */
const flatten = (message) => {
  if (
    message &&
    typeof message.event == 'object' &&
    message.event &&
    typeof message.event.type == 'string'
  ) {
    const { event, ...stored } = message;
    return { ...event, ...stored };
  }
  return message;
};

const receive = (message) => {
  let event;
  try {
    event = flatten(JSON.parse(message.data));
  } catch {
    return;
  }
  // Reconnecting replays the stream: each event id is shown once.
  if (!event || typeof event != 'object' || seen.has(event.id)) return;
  seen.add(event.id);
  pending.push(event);
  if (!scheduled) {
    scheduled = true;
    setTimeout(flush, 50);
  }
};

const connect = () => {
  const source = new EventSource('/events/stream?replay=1000');
  const state = (name, text) => {
    $('connection').dataset.state = name;
    $('connection').lastElementChild.textContent = text;
  };
  source.onopen = () => state('live', 'Live');
  source.onerror = () =>
    state('down', source.readyState == EventSource.CLOSED ? 'Disconnected' : 'Reconnecting…');
  source.onmessage = receive;
};

/** A destination's state: failing (dead letters, or the last send failed), retrying, or fine. */
const health = (d) => {
  const last = Array.isArray(d.recent) ? d.recent[d.recent.length - 1] : undefined;
  if (d.ok === false || d.dead > 0) return 'poor';
  if (d.retrying > 0 || (last && !last.ok)) return 'needs-improvement';
  return 'good';
};

/** The last error a destination reported, from `lastError` or its recent sends. */
const lastError = (d) =>
  d.lastError ||
  (Array.isArray(d.recent) ? d.recent.filter((send) => !send.ok).pop()?.error : undefined);

/**
 * Renders /status: the number of stored events, then one row per destination with its delivery
 * counts. Unknown numeric fields are shown too, so a relay that reports more needs no change here.
 */
const renderStatus = (status) => {
  const numbers = Object.entries(status).filter(
    ([key, value]) => typeof value == 'number' && !/At$/.test(key),
  );
  const destinations = Array.isArray(status.destinations)
    ? status.destinations.map((d, i) => [d.destination || d.name || d.id || `#${i + 1}`, d])
    : Object.entries(status.destinations || {});
  const stat = ([key, value]) =>
    el(
      'div',
      { class: 'stat' },
      el('b', {}, key == 'uptime' ? duration(value) : value.toLocaleString()),
      el('span', {}, key == 'events' ? 'events stored' : key),
    );
  const counts = (d) =>
    Object.entries(d)
      .filter(([, value]) => typeof value == 'number' && value >= 0)
      .filter(([key]) => !/At$/.test(key))
      .map(([key, value]) =>
        el(
          'span',
          { class: `count ${key}${value ? '' : ' zero'}` },
          el('b', {}, value.toLocaleString()),
          ' ',
          key,
        ),
      );
  $('delivery').replaceChildren(
    el(
      'div',
      { class: 'stats' },
      numbers.map(stat),
      el(
        'div',
        { class: 'stat' },
        el('b', {}, String(destinations.length)),
        el('span', {}, 'destinations'),
      ),
    ),
    destinations.length
      ? el(
          'ul',
          { class: 'destinations' },
          destinations.map(([name, d]) =>
            el(
              'li',
              { 'data-destination': name, class: health(d) },
              el('span', { class: `dot ${health(d)}`, title: health(d).replace('-', ' ') }),
              el(
                'b',
                { class: 'name' },
                name,
                d.type ? el('span', { class: 'kind' }, d.type) : null,
              ),
              el('div', { class: 'counts' }, counts(d)),
              health(d) != 'good' && lastError(d)
                ? el(
                    'div',
                    { class: 'error-line', title: lastError(d) },
                    'last error: ',
                    lastError(d),
                  )
                : null,
            ),
          ),
        )
      : el('p', { class: 'muted' }, 'No destinations configured: events are stored only.'),
  );
};

const pollStatus = async () => {
  try {
    const response = await fetch('/status', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    renderStatus(await response.json());
  } catch (error) {
    $('delivery').replaceChildren(
      el('p', { class: 'rating poor' }, `Relay unreachable: ${error.message}`),
    );
  }
  setTimeout(pollStatus, 2000);
};

$('clear-filter').addEventListener('click', () => setFilter(''));
renderTypes();
renderVitals();
connect();
pollStatus();
