/**
 * Local stand-ins for each destination's API. Each checks every rule its document states (and,
 * for Databuddy and Tracardi, their servers' validation) and records a violation for each broken
 * one; it answers as the real API would. `mode` makes it fail (500) or hang, to test recovery.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

export interface Mock {
  url: string;
  /** Requests answered with success. */
  accepted: Received[];
  violations: string[];
  /** ok; fail = 500; hang = hold the request `hangMs`, then drop the connection. */
  mode: 'ok' | 'fail' | 'hang';
  hangMs: number;
  /** Answer this status (once each) before behaving normally. */
  script: number[];
  /** Headers sent with each scripted answer (e.g. `Retry-After`). */
  scriptHeaders: Record<string, string>;
  /** Answer 400 to any body for which this returns true (a batch API refusing its content). */
  refuseIf?: (body: any) => boolean;
  /** Every request: when it arrived (epoch ms) and the status it got. */
  log: { at: number; status: number }[];
  close(): Promise<void>;
}

type Check = (
  path: string,
  headers: IncomingHttpHeaders,
  body: any,
  fail: (rule: string) => void,
) => { status: number; json?: unknown };

const isObject = (x: unknown): x is Record<string, unknown> =>
  !!x && typeof x == 'object' && !Array.isArray(x);
const hasNull = (x: unknown): boolean =>
  x === null ||
  (Array.isArray(x) ? x.some(hasNull) : isObject(x) ? Object.values(x).some(hasNull) : false);
const hex64 = /^[0-9a-f]{64}$/;

/** Starts a mock on 127.0.0.1 with the given rule check. */
export const startMock = async (check: Check): Promise<Mock> => {
  const mock: Mock = {
    url: '',
    accepted: [],
    violations: [],
    mode: 'ok',
    hangMs: 2000,
    script: [],
    scriptHeaders: {},
    log: [],
    close: async () => {},
  };
  const server = createServer((req, res) => {
    let raw = '';
    // Decided when the request arrives, as the sender sees it: a request sent while hanging hangs.
    const hang = mock.mode == 'hang';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      if (hang) return void setTimeout(() => res.destroy(), mock.hangMs);
      // A sender that already gave up (its timeout closed the connection) never sees this answer and
      // sends again: on a busy machine this handler can run that late. Not counted as delivered.
      if (req.socket.destroyed || req.socket.readableEnded) return void res.destroy();
      const arrived = Date.now();
      const scripted = mock.script.shift();
      if (mock.mode == 'fail' || scripted) {
        mock.log.push({ at: arrived, status: scripted ?? 500 });
        res.writeHead(scripted ?? 500, {
          'Content-Type': 'application/json',
          ...(scripted ? mock.scriptHeaders : {}),
        });
        return void res.end('{"status":"error","message":"unavailable"}');
      }
      const path = req.url ?? '/';
      let body: unknown;
      const violations: string[] = [];
      const fail = (rule: string) => violations.push(`${req.method} ${path}: ${rule}`);
      try {
        body = JSON.parse(raw);
      } catch {
        fail('body is not JSON');
      }
      if (req.method != 'POST') fail('method must be POST');
      if (!String(req.headers['content-type']).startsWith('application/json'))
        fail(`content-type must be application/json, got ${req.headers['content-type']}`);
      const refused = !violations.length && !!mock.refuseIf?.(body);
      const answer =
        violations.length || refused ? { status: 400 } : check(path, req.headers, body, fail);
      mock.log.push({ at: arrived, status: answer.status });
      mock.violations.push(...violations);
      if (answer.status < 300) mock.accepted.push({ path, headers: req.headers, body });
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mock.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mock.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return mock;
};

/** Databuddy basket: rules of its document and of its ingestion service's validation. */
export const databuddyMock = (clientId: string, apiKey: string) =>
  startMock((path, headers, body, fail) => {
    const url = new URL(path, 'http://x');
    const items: any[] = Array.isArray(body) ? body : [body];
    const timestampOk = (t: unknown) =>
      t === undefined || (Number.isInteger(t) && (t as number) <= Date.now() + 3_600_000);
    if (url.pathname == '/track') {
      const byKey = headers.authorization == `Bearer ${apiKey}`;
      if (!byKey && url.searchParams.get('website_id') != clientId)
        fail('needs Bearer key or website_id');
      if (headers.authorization && !byKey)
        return { status: 401, json: { status: 'error', message: 'bad key' } };
      if (items.length > 100) fail(`batch of ${items.length} > 100`);
      for (const e of items) {
        if (typeof e.name != 'string' || e.name.length < 1 || e.name.length > 256)
          fail(`name must be 1-256 chars: ${e.name}`);
        if (e.properties !== undefined) {
          if (!isObject(e.properties)) fail('properties must be an object');
          else {
            if (Object.keys(e.properties).length > 50) fail('more than 50 properties');
            if (Object.keys(e.properties).some((k) => k.length > 128)) fail('property key > 128');
            if (hasNull(e.properties)) fail('null in properties');
            if (JSON.stringify(e.properties).length > 32768) fail('properties > 32 KB');
          }
        }
        if (!timestampOk(e.timestamp)) fail(`bad timestamp ${e.timestamp}`);
        for (const k of ['anonymousId', 'sessionId', 'eventId'])
          if (e[k] !== undefined && (typeof e[k] != 'string' || e[k].length > 256))
            fail(`${k} must be a string ≤ 256`);
      }
      return {
        status: 200,
        json: { status: 'success', type: 'custom_event', count: items.length },
      };
    }
    if (url.pathname == '/vitals' || url.pathname == '/errors') {
      if (url.searchParams.get('client_id') != clientId) fail('needs client_id');
      if (!Array.isArray(body)) fail('must be an array');
      const max = url.pathname == '/vitals' ? 20 : 50;
      if (items.length > max) fail(`batch of ${items.length} > ${max}`);
      for (const e of items) {
        if (typeof e.path != 'string') fail('path required');
        if (!timestampOk(e.timestamp)) fail(`bad timestamp ${e.timestamp}`);
        if (e.eventId !== undefined && typeof e.eventId != 'string')
          fail('eventId must be a string');
        if (url.pathname == '/vitals') {
          if (!['FCP', 'LCP', 'CLS', 'INP', 'TTFB', 'FPS'].includes(e.metricName))
            fail(`metricName ${e.metricName}`);
          if (typeof e.metricValue != 'number') fail('metricValue must be a number');
        } else {
          if (typeof e.message != 'string') fail('message required');
          for (const k of ['lineno', 'colno'])
            if (e[k] != null && !Number.isInteger(e[k])) fail(`${k} must be an integer`);
          for (const k of ['filename', 'stack', 'errorType'])
            if (e[k] != null && typeof e[k] != 'string') fail(`${k} must be a string`);
        }
      }
      return {
        status: 200,
        json: { status: 'success', type: url.pathname.slice(1), count: items.length },
      };
    }
    fail('unknown endpoint');
    return { status: 404 };
  });

/** Tracify server-side events. */
export const tracifyMock = (customerSiteId: string, apiKey: string) =>
  startMock((path, headers, body, fail) => {
    if (path != '/events') fail(`posted to ${path}`);
    if (headers.authorization != `Bearer ${apiKey}`) return { status: 401 };
    if (!isObject(body) || !Array.isArray(body.events) || !body.events.length) {
      fail('events[] required');
      return { status: 400 };
    }
    for (const e of body.events as any[]) {
      if (typeof e.url != 'string' || !/^https?:\/\//.test(e.url)) fail('url must be a full URL');
      if (e.customer_site_id != customerSiteId) fail('customer_site_id');
      if (!['pageview', 'productview', 'addtocart', 'purchase', 'conversion'].includes(e.type))
        fail(`type ${e.type}`);
      if (!/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(e.datetime)) fail(`datetime ${e.datetime}`);
      const identity = isObject(e.identity_data) ? e.identity_data : {};
      const kinds = Object.entries(identity).map(([k, v]) => {
        if (!hex64.test(k)) fail(`identity key not a SHA-256 hex: ${k}`);
        return v;
      });
      for (const need of [2, 3, 4]) if (!kinds.includes(need)) fail(`identity_data lacks ${need}`);
      if (kinds.some((k) => ![1, 2, 3, 4].includes(k as number))) fail('identity value not 1-4');
      const data = isObject(e.data) ? e.data : {};
      if (typeof data.origin != 'string' || !/^https?:\/\/[^/]+$/.test(data.origin))
        fail(`data.origin ${data.origin}`);
      if (Object.values(data).some((v) => typeof v != 'string'))
        fail('data values must be strings');
      if (e.type == 'purchase' || e.type == 'conversion') {
        if (!data[e.type == 'purchase' ? 'order_id' : 'conversion_id'])
          fail(`${e.type} needs its id`);
        if (!/^[A-Z]{3}$/.test(String(data.currency))) fail('currency must be ISO-4217');
        if (!/^\d+(\.\d+)?$/.test(String(data.amount))) fail('amount must be a decimal string');
      }
      for (const key of Object.keys(data)) {
        const m = /^(ITEM|AMT|QTY)(\d+)$/.exec(key);
        if (m && e.type != 'purchase') fail(`${key} only on purchases`);
        if (m && m[1] != 'AMT' && !(`ITEM${m[2]}` in data && `QTY${m[2]}` in data))
          fail(`${key} without its ITEM/QTY`);
      }
    }
    return { status: 200, json: { status: 'ok' } };
  });

/** Tracardi /track: 401 unknown source, 422 missing fields, a crash on null, profile id issued and expected back. */
export const tracardiMock = (sourceId: string) => {
  const issued = new Map<string, string>();
  return startMock((path, _headers, body, fail) => {
    if (path != '/track') fail(`posted to ${path}`);
    if (
      !isObject(body) ||
      !isObject(body.source) ||
      !isObject(body.session) ||
      !Array.isArray(body.events)
    )
      return { status: 422, json: { detail: 'missing fields' } };
    if (body.source.id != sourceId) return { status: 401, json: { detail: 'UnAuthorized' } };
    if (hasNull(body)) {
      fail('null in payload (crashes the server)');
      return { status: 500 };
    }
    if (typeof body.session.id != 'string' || !body.events.length)
      fail('session.id and events required');
    for (const e of body.events as any[]) {
      if (typeof e.type != 'string' || !e.type) fail('event type required');
      if (typeof e.id != 'string') fail('event id required');
      if (!isObject(e.properties)) fail('event properties must be an object');
      if (e.time !== undefined && (!isObject(e.time) || isNaN(Date.parse(String(e.time.create)))))
        fail('time.create must be a date');
    }
    const sent = isObject(body.profile) ? String(body.profile.id) : undefined;
    if (sent && ![...issued.values()].includes(sent)) fail(`unknown profile ${sent}`);
    const profile = sent ?? randomUUID();
    issued.set(body.session.id as string, profile);
    return {
      status: 200,
      json: {
        profile: { id: profile },
        session: { id: body.session.id },
        events: [],
        ux: [],
        errors: [],
      },
    };
  });
};

/** Growlytics /track/event: key header, name < 50, epoch-ms time, ≤ 50 attributes of allowed types, stable types. */
export const growlyticsMock = (apiKey: string) => {
  const types = new Map<string, string>();
  return startMock((path, headers, body, fail) => {
    if (path != '/track/event') fail(`posted to ${path}`);
    if (headers['x-growlytics-key'] != apiKey) return { status: 401 };
    if (!isObject(body)) return { status: 400 };
    if (typeof body.customerId != 'string' || !body.customerId) fail('customerId required');
    if (typeof body.name != 'string' || !body.name || body.name.length >= 50)
      fail(`name must be < 50 chars: ${body.name}`);
    if (!Number.isInteger(body.time) || (body.time as number) < 1e12) fail('time must be epoch ms');
    if (!isObject(body.attributes)) fail('attributes required');
    else {
      if (Object.keys(body.attributes).length > 50) fail('more than 50 attributes');
      for (const [k, v] of Object.entries(body.attributes)) {
        if (!['string', 'number', 'boolean'].includes(typeof v))
          fail(`attribute ${k} has type ${v === null ? 'null' : typeof v}`);
        const was = types.get(k);
        if (was && was != typeof v) fail(`attribute ${k} changed type ${was} → ${typeof v}`);
        types.set(k, typeof v);
      }
    }
    return { status: 200, json: {} };
  });
};

/** DataCue /v1/events: Basic `key:`, user, event type/subtype, context, ISO timestamp; answers 204. */
export const datacueMock = (apiKey: string) =>
  startMock((path, headers, body, fail) => {
    if (path != '/v1/events') fail(`posted to ${path}`);
    if (headers.authorization != 'Basic ' + Buffer.from(apiKey + ':').toString('base64'))
      return { status: 401 };
    if (!isObject(body) || !isObject(body.user) || !isObject(body.event)) {
      fail('user and event required');
      return { status: 400 };
    }
    if (!body.user.user_id && !body.user.anonymous_id) fail('user_id or anonymous_id required');
    const { type, subtype } = body.event as any;
    if (!['pageview', 'viewcart', 'search', 'wishlist', 'click', 'order', 'login'].includes(type))
      fail(`type ${type}`);
    if (['pageview', 'wishlist', 'click', 'order'].includes(type) && !subtype)
      fail(`${type} needs a subtype`);
    if (type == 'pageview' && !['home', 'product', 'category', 'search'].includes(subtype))
      fail(`pageview subtype ${subtype}`);
    if (type == 'order' && !['started', 'completed'].includes(subtype))
      fail(`order subtype ${subtype}`);
    if (type == 'viewcart' && !Array.isArray(body.event.cart)) fail('viewcart needs cart[]');
    if (type == 'search' && typeof body.event.term != 'string') fail('search needs term');
    if (
      !isObject(body.context) ||
      typeof body.context.ip != 'string' ||
      typeof body.context.user_agent != 'string'
    )
      fail('context.ip and context.user_agent');
    if (
      typeof body.timestamp != 'string' ||
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(body.timestamp)
    )
      fail(`timestamp ${body.timestamp}`);
    if (hasNull(body)) fail('null in body');
    return { status: 204 };
  });

/** A webhook receiver: the wire format. */
export const webhookMock = (secret?: string) =>
  startMock((_path, headers, body, fail) => {
    if (secret && headers['x-webhook-secret'] != secret) return { status: 401 };
    if (
      !isObject(body) ||
      body.v !== 1 ||
      typeof body.site != 'string' ||
      typeof body.sentAt != 'number' ||
      !Array.isArray(body.events)
    )
      fail('not the wire format');
    return { status: 200, json: { ok: true } };
  });
