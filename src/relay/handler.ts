/**
 * The relay as a web-standard handler, `(Request, client?) => Promise<Response>`: a table of routes,
 * one module per concern under routes/ (ingest, CORS, health, the first-party script, the live
 * event stream, admin). Runs under the Node adapter (server.ts) or any runtime that speaks
 * Request/Response.
 */
import { DEFAULT_LIMITS, type RelayConfig } from './config';
import type { Worker } from './delivery';
import type { Metrics } from './metrics';
import type { Retention } from './retention';
import type { Store, StoredEvent } from './store';
import { createSuppression } from './suppression';
import { createAdmin, ADMIN_PATHS } from './routes/admin';
import {
  INTERNAL,
  jsonAnswer,
  json,
  readBytes,
  refuse,
  toResponse,
  type Answer,
} from './routes/answers';
import { preflight } from './routes/cors';
import { health, ready } from './routes/health';
import { createIngest, type ClientInfo, type IngestRequest } from './routes/ingest';
import {
  loadBeside,
  loadScript,
  serveBeside,
  serveScript,
  serveScriptInfo,
  type ScriptInfo,
} from './routes/script';
import { createEventStream } from './routes/stream';

export type { Answer } from './routes/answers';
export type { ClientInfo, IngestRequest } from './routes/ingest';
export { loadScript, type ScriptInfo } from './routes/script';

/** The relay's request handler. */
export type Handler = (request: Request, client?: ClientInfo) => Promise<Response>;

/** What the handler works with. */
export interface HandlerOptions {
  config: RelayConfig;
  store: Store;
  /** Kicked after each ingest; its stats join the status view. */
  worker?: Worker;
  /** The pruner: its counts join the status view. */
  retention?: Retention;
  /** Prometheus metrics: counted here, served at /metrics. */
  metrics?: Metrics;
  /** Clock, for tests. */
  now?: () => number;
  /** Receives the detail of internal errors (answers carry a generic message). */
  log?: (line: string) => void;
  /**
   * Where `?token=` is accepted: only on the event stream (an EventSource cannot send headers; tokens
   * in URLs end up in proxy logs), or on every admin route as before. `startRelay` uses `'stream'`.
   */
  queryToken?: 'stream' | 'every-route';
}

/** The handler, with what it serves besides requests. */
export type RelayHandler = Handler & {
  /** Sends events to the live stream's subscribers (for anything else that stores events). */
  publish(events: StoredEvent[]): void;
  /**
   * The ingest route (`POST /collect` or `POST /`) as plain data, for an adapter that reads headers
   * and body itself (server.ts): the same checks, answers and metrics as through the handler.
   */
  collect(
    request: IngestRequest,
    client: ClientInfo | undefined,
    pathname: string,
  ): Promise<Answer>;
  /** The first-party script, when one is configured. */
  script?: ScriptInfo;
};

/** What a route gets of a request. */
interface Call {
  request: Request;
  url: URL;
  client?: ClientInfo;
}

/** One row of the route table: the methods and path it answers. */
interface Route {
  methods: readonly string[];
  path: string;
  serve(call: Call): Response | Promise<Response>;
}

const GET = ['GET'] as const;
const POST = ['POST'] as const;
const GET_HEAD = ['GET', 'HEAD'] as const;

/** Creates the relay's request handler. */
export function createHandler(options: HandlerOptions): RelayHandler {
  const { config, store } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const limits = { ...DEFAULT_LIMITS, ...config.limits };
  const script = config.script ? loadScript(config.script) : undefined;
  const beside = config.script ? loadBeside(config.script) : [];
  const allOrigins = new Set(Object.values(config.sites).flatMap((s) => s.origins));
  const suppression = createSuppression(store);
  const stream = createEventStream(store, limits);
  const ingest = createIngest({
    config,
    store,
    worker: options.worker,
    metrics: options.metrics,
    suppression,
    publish: stream.publish,
    now,
    log,
  });
  const admin = createAdmin({ ...options, now, stream, ingest, suppression });

  const collectRoute = ({ request, client }: Call) =>
    ingest
      .ingest({ headers: request.headers, bytes: (limit) => readBytes(request, limit) }, client)
      .then(toResponse);
  // In the order they are matched: the first row with the request's path and method answers.
  const routes: Route[] = [
    { methods: POST, path: '/collect', serve: collectRoute },
    { methods: POST, path: '/', serve: collectRoute },
    { methods: GET, path: '/health', serve: health },
    ...(script
      ? [
          {
            methods: GET_HEAD,
            path: script.path,
            serve: ({ request, url }: Call) => serveScript(script, request, url),
          },
          { methods: GET, path: script.path + '.json', serve: () => serveScriptInfo(script) },
        ]
      : []),
    ...beside.map((file) => ({
      methods: GET_HEAD,
      path: file.path,
      serve: ({ request }: Call) => serveBeside(file, request),
    })),
    { methods: GET, path: '/ready', serve: () => ready(store) },
    { methods: GET, path: '/status', serve: () => admin.status() },
    { methods: GET, path: '/metrics', serve: () => admin.metrics() },
    { methods: GET, path: '/events/stream', serve: ({ url }) => stream.open(url) },
    { methods: GET, path: '/dead-letters', serve: ({ url }) => admin.deadLetters(url) },
    {
      methods: POST,
      path: '/dead-letters/requeue',
      serve: ({ request }) => admin.requeue(request),
    },
    { methods: POST, path: '/erase', serve: ({ request }) => admin.erase(request) },
  ];
  const find = (method: string, path: string) =>
    routes.find((route) => route.path == path && route.methods.includes(method));

  /**
   * Preflight on any path, then the first matching route; admin paths pass the admin guard first,
   * whatever the method.
   */
  const answer = async (call: Call): Promise<Response> => {
    const { method } = call.request;
    const { pathname } = call.url;
    try {
      if (method == 'OPTIONS') return preflight(allOrigins, call.request);
      const route = find(method, pathname);
      if (route && !ADMIN_PATHS.has(route.path)) return await route.serve(call);
      const refused = ADMIN_PATHS.has(pathname) ? admin.guard(call.request, call.url) : undefined;
      if (refused) return refused;
      if (route) return await route.serve(call);
      return refuse(404, 'not_found', 'path', `${method} ${pathname} is not served here`);
    } catch (error) {
      // The detail stays in the log: it can name files, hosts or queries a browser has no business seeing.
      log(`${method} ${pathname}: ${(error as Error).stack ?? error}`);
      return json(500, INTERNAL);
    }
  };

  const handler: Handler = async (request, client) => {
    const url = new URL(request.url);
    const response = await answer({ request, url, client });
    options.metrics?.request(url.pathname, response.status);
    return response;
  };

  const collect = async (
    request: IngestRequest,
    client: ClientInfo | undefined,
    pathname: string,
  ): Promise<Answer> => {
    let answered: Answer;
    try {
      answered = await ingest.ingest(request, client);
    } catch (error) {
      log(`POST ${pathname}: ${(error as Error).stack ?? error}`);
      answered = jsonAnswer(500, INTERNAL);
    }
    options.metrics?.request(pathname, answered.status);
    return answered;
  };
  return Object.assign(handler, { publish: stream.publish, script, collect });
}
