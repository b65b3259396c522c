/** The Node adapter: serves a web-standard handler over node:http. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Handler } from './handler';

/** A listening server. */
export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Builds a Request from a Node request (the body streams; the handler enforces the size limit). */
const toRequest = (req: IncomingMessage): Request => {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
    else if (value != undefined) headers.set(name, value);
  }
  const hasBody = req.method != 'GET' && req.method != 'HEAD';
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    // Required by Node's fetch for a streamed request body.
    duplex: 'half',
  } as RequestInit);
};

/** Writes a Response, streaming its body; a client that goes away cancels the stream. */
const send = async (response: Response, res: ServerResponse): Promise<void> => {
  const headers = Object.fromEntries(response.headers);
  if (!response.body) return void res.writeHead(response.status, headers).end();
  if (headers['content-type'] != 'text/event-stream') {
    // One write for head and body: split writes meet the peer's delayed ACK and cost ~40 ms each.
    const body = Buffer.from(await response.arrayBuffer());
    return void res.writeHead(response.status, { ...headers, 'content-length': String(body.length) }).end(body);
  }
  res.writeHead(response.status, headers);
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  // Event streams must reach the client at once, not when a buffer fills.
  res.flushHeaders();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client closed the connection.
  }
  res.end();
};

/** A node:http request listener that runs `handler`: mount the relay on a server of your own. */
export const toNodeListener =
  (handler: Handler) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    handler(toRequest(req), { remoteAddress: req.socket.remoteAddress })
      .then((response) => send(response, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"error":"internal"}');
      });
  };

/** Serves `handler` on host:port (port 0 picks a free one). */
export function serve(handler: Handler, options: { port?: number; host?: string } = {}): Promise<Served> {
  const server = createServer(toNodeListener(handler));
  // Longer than clients' own idle timeouts (undici: 4 s), so a client never reuses a socket the server is closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
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
