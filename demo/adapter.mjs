// Serves a web-standard handler, `(Request, { remoteAddress }) => Promise<Response>` (the relay's
// shape), from node:http: the demo mounts the relay's handler on its own server this way.
import { Readable } from 'node:stream';

/** Builds a Request from a Node request; the body streams (the handler enforces its size limit). */
const toRequest = (req) => {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) value.forEach((item) => headers.append(name, item));
    else if (value != null) headers.set(name, value);
  }
  const hasBody = req.method != 'GET' && req.method != 'HEAD';
  return new Request(`http://${req.headers.host || 'localhost'}${req.url || '/'}`, {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    // Node's fetch requires this for a streamed request body.
    duplex: 'half',
  });
};

/** Writes a Response, streaming its body at once (event streams must not wait for a full buffer). */
const send = async (response, res) => {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  res.flushHeaders();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client went away.
  }
  res.end();
};

/** A node:http request listener that runs `handler`. */
export const toNodeListener = (handler) => (req, res) => {
  handler(toRequest(req), { remoteAddress: req.socket.remoteAddress })
    .then((response) => send(response, res))
    .catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"error":"internal"}');
    });
};
