/** What every route answers with: JSON answers and refusals, bounded body reads, the token compare. */
import { timingSafeEqual } from 'node:crypto';

/** An answer as plain data, so the Node adapter writes the ingest route's without building a Response. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A JSON answer that no cache keeps. */
export const jsonAnswer = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Answer => ({
  status,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

/** An answer as a web Response. */
export const toResponse = (answer: Answer): Response =>
  new Response(answer.body, { status: answer.status, headers: answer.headers });

/** A JSON Response that no cache keeps. */
export const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response => toResponse(jsonAnswer(status, body, headers));

/** A refusal that names what is wrong, as `{ error, field, message }`. */
export const refusal = (
  status: number,
  error: string,
  field: string,
  message: string,
  headers?: Record<string, string>,
): Answer => jsonAnswer(status, { error, field, message }, headers);

/** A refusal as a web Response. */
export const refuse = (
  status: number,
  error: string,
  field: string,
  message: string,
  headers?: Record<string, string>,
): Response => toResponse(refusal(status, error, field, message, headers));

/** What the relay answers when a request fails inside it; the detail goes to the log only. */
export const INTERNAL = {
  error: 'internal',
  message: 'the relay could not answer this request; the detail is in its log',
};

/** Reads a body as text up to `limit` bytes; undefined past it. */
export const readLimited = (request: Request, limit: number): Promise<string | undefined> =>
  readBytes(request, limit).then((bytes) => bytes?.toString('utf8'));

/** Reads a body up to `limit` bytes; undefined past it. */
export const readBytes = async (request: Request, limit: number): Promise<Buffer | undefined> => {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
};

/** Compares two strings in time that does not depend on where they differ. */
export const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length == y.length && timingSafeEqual(x, y);
};
