/** The Node adapter: serves a web-standard handler over node:http. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { DEFAULT_LIMITS, type Limits } from './config';
import type { Handler, RelayHandler } from './handler';

/** A listening server. */
export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A request the adapter cannot turn into a Request: answered 400 with this reason. */
class BadRequest extends Error {}

/** A host name, IPv4 or bracketed IPv6 address, with an optional port. */
const HOST = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The path and query of a request target: origin-form (`/a?b`) or absolute-form (`http://h/a?b`). */
const pathOf = (target: string): string => {
  if (target.startsWith('/')) return target;
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return url.pathname + url.search;
    } catch {
      // Falls through to the refusal below.
    }
  }
  throw new BadRequest(`the request target "${target.slice(0, 100)}" is not a path`);
};

/** The Host header, checked; throws a BadRequest for several or one that is not a host name. */
const hostOf = (req: IncomingMessage): string => {
  // Node keeps the first of several Host headers; two names for one request are refused instead.
  if ((req.headersDistinct.host?.length ?? 0) > 1)
    throw new BadRequest('more than one Host header');
  const host = req.headers.host || 'localhost';
  // Checked before use: `a b`, `user@host` or `host/path` would make a URL that fails or means another one.
  if (!HOST.test(host))
    throw new BadRequest(`the Host header "${host.slice(0, 100)}" is not a host name`);
  return host;
};

/** Builds a Request from a Node request (the body streams; the handler enforces the size limit). */
const toRequest = (req: IncomingMessage): Request => {
  const host = hostOf(req);
  // Concatenated, not resolved: a target `//other/path` is a path here, not another host.
  const url = `http://${host}${pathOf(req.url ?? '/')}`;
  const headers = new Headers();
  try {
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
      else if (value != undefined) headers.set(name, value);
    }
  } catch {
    throw new BadRequest('a header value is not valid');
  }
  const hasBody = req.method != 'GET' && req.method != 'HEAD';
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    // Required by Node's fetch for a streamed request body.
    duplex: 'half',
  } as RequestInit);
};

/** Resolves once the socket has room again, or the client went away. */
const drained = (res: ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

/** Writes a Response, streaming its body; a client that goes away cancels the stream. */
const send = async (response: Response, res: ServerResponse): Promise<void> => {
  const headers = Object.fromEntries(response.headers);
  if (!response.body) return void res.writeHead(response.status, headers).end();
  if (headers['content-type'] != 'text/event-stream') {
    // One write for head and body: split writes meet the peer's delayed ACK and cost ~40 ms each.
    const body = Buffer.from(await response.arrayBuffer());
    return void res
      .writeHead(response.status, { ...headers, 'content-length': String(body.length) })
      .end(body);
  }
  res.writeHead(response.status, headers);
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  reader.closed.catch(() => {});
  // Event streams must reach the client at once, not when a buffer fills.
  res.flushHeaders();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      // A client that does not read: stop reading the stream too, so the handler sees it fall
      // behind (and drops it) instead of this socket's buffer growing.
      // Waiting for room ends too when the handler drops the subscriber (the stream errors).
      if (!res.write(value)) await Promise.race([drained(res), reader.closed]);
    }
  } catch {
    // The client closed the connection, or the handler dropped it: what is still buffered for a
    // client that does not read would never leave, so the connection goes.
    return void res.destroy();
  }
  res.end();
};

/** A JSON refusal written straight to a Node response. */
const refuseRaw = (res: ServerResponse, status: number, error: string, message: string) => {
  const body = JSON.stringify({ error, field: '(request)', message });
  res
    .writeHead(status, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
    })
    .end(body);
};

/** A request's body, up to `limit` bytes (undefined past it, and the rest is discarded). */
const readBody = (req: IncomingMessage, limit: number) =>
  new Promise<Buffer | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });

/**
 * The ingest route's fast path: a POST with a declared length to `/collect` or `/` is read and
 * answered as plain data (RelayHandler.collect), without a web Request, Headers, streams or
 * Response per request; everything else goes through the handler. Returns false when not taken.
 */
const collectFast = (
  handler: Partial<RelayHandler>,
  req: IncomingMessage,
  res: ServerResponse,
  log?: (line: string) => void,
): boolean => {
  const { collect } = handler;
  const path = req.url;
  if (
    !collect ||
    req.method != 'POST' ||
    (path != '/collect' && path != '/') ||
    req.headers['content-length'] == undefined ||
    req.headers['transfer-encoding'] != undefined
  )
    return false;
  try {
    hostOf(req);
  } catch (error) {
    refuseRaw(res, 400, 'bad_request', (error as Error).message);
    return true;
  }
  // Node lower-cases header names and joins repeated ones with ", ", as Headers does.
  const headers = {
    get: (name: string): string | null => {
      const value = req.headers[name];
      return value == undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
  collect(
    { headers, bytes: (limit) => readBody(req, limit) },
    { remoteAddress: req.socket.remoteAddress },
    path,
  )
    .then(
      (answer) =>
        void res
          .writeHead(answer.status, {
            ...answer.headers,
            'Content-Length': String(Buffer.byteLength(answer.body)),
          })
          .end(answer.body),
    )
    .catch((error: Error) => {
      log?.(`POST ${path}: ${error?.stack ?? error}`);
      if (res.headersSent) return void res.end();
      refuseRaw(
        res,
        500,
        'internal',
        'the relay could not answer this request; the detail is in its log',
      );
    });
  return true;
};

/** A node:http request listener that runs `handler`: mount the relay on a server of your own. */
export const toNodeListener =
  (handler: Handler, options: { log?: (line: string) => void } = {}) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    if (collectFast(handler as Partial<RelayHandler>, req, res, options.log)) return;
    let request: Request;
    try {
      request = toRequest(req);
    } catch (error) {
      if (!(error instanceof BadRequest))
        options.log?.(`request not understood: ${(error as Error).message}`);
      return refuseRaw(
        res,
        400,
        'bad_request',
        error instanceof BadRequest ? error.message : 'the request could not be read',
      );
    }
    handler(request, { remoteAddress: req.socket.remoteAddress })
      .then((response) => send(response, res))
      .catch((error: Error) => {
        options.log?.(`${req.method} ${req.url?.slice(0, 200)}: ${error?.stack ?? error}`);
        if (res.headersSent) return void res.end();
        refuseRaw(
          res,
          500,
          'internal',
          'the relay could not answer this request; the detail is in its log',
        );
      });
  };

/** What node's parser refuses, as the status it deserves. */
const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request line and headers are too large'],
  HPE_URI_TOO_LONG: [414, 'the request target is too long'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long'],
};

/**
 * Answers what node's HTTP parser refuses (malformed request lines, headers, chunked bodies,
 * conflicting lengths) with a JSON 4xx, then closes the connection.
 */
const onClientError = (error: Error & { code?: string }, socket: Socket) => {
  // Only where no answer has started on this connection (as node's own handler does).
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !answering?.headersSent) {
    const [status, message] = CLIENT_ERRORS[error.code ?? ''] ?? [
      400,
      'the request is not valid HTTP',
    ];
    const body = JSON.stringify({ error: 'bad_request', field: '(request)', message });
    const reason =
      status == 431
        ? 'Request Header Fields Too Large'
        : status == 414
          ? 'URI Too Long'
          : status == 408
            ? 'Request Timeout'
            : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ` +
        `${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
};

/** Options of `serve()`. */
export interface ServeOptions {
  port?: number;
  host?: string;
  /** Timeouts and caps; each defaults to `DEFAULT_LIMITS`. */
  limits?: Partial<Limits>;
  /** Receives internal errors. */
  log?: (line: string) => void;
}

/** Serves `handler` on host:port (port 0 picks a free one). */
export function serve(handler: Handler, options: ServeOptions = {}): Promise<Served> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      requireHostHeader: true,
      // Timeouts are checked this often: a quarter of the header timeout, so they hold within 25 %.
      connectionsCheckingInterval: Math.min(
        30_000,
        Math.max(100, Math.floor(limits.headersTimeoutMs / 4)),
      ),
    },
    toNodeListener(handler, { log: options.log }),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on('clientError', onClientError);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { port, address, family } = server.address() as AddressInfo;
      const host = family == 'IPv6' ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Event streams never end by themselves.
            server.closeAllConnections();
          }),
      });
    });
  });
}
