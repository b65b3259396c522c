/** The first-party script: its versioned URL, SRI hash and `.json` description, and the two files served beside it. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { json } from './answers';

/** The first-party script: its bytes, SRI hash and versioned URL. */
export interface ScriptInfo {
  path: string;
  src: string;
  integrity: string;
  body: Buffer;
}

/** The script tag's second and third files, fetched by the first from next to itself. */
const BESIDE_FILES = ['tracklet.captures.js', 'tracklet.marketing.js'];

/** Reads the script file and computes its SRI (sha384) and a content-versioned src. */
export const loadScript = (script: { path: string; file: string }): ScriptInfo => {
  const body = readFileSync(script.file);
  const digest = createHash('sha384').update(body).digest();
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return {
    path: script.path,
    src: `${script.path}?v=${version}`,
    integrity: 'sha384-' + digest.toString('base64'),
    body,
  };
};

/**
 * The script tag's second and third files (captures; marketing), which the first fetches from next
 * to its own URL: served beside the script's path when the build has them beside the script's file.
 */
export const loadBeside = (script: { path: string; file: string }): ScriptInfo[] =>
  BESIDE_FILES.flatMap((name) => {
    const file = join(dirname(script.file), name);
    return existsSync(file)
      ? [loadScript({ path: posix.join(posix.dirname(script.path), name), file })]
      : [];
  });

const versionOf = (script: ScriptInfo) => script.src.split('v=')[1];

/** A script file's answer to GET or HEAD, cached for `cacheControl`. */
const scriptResponse = (script: ScriptInfo, method: string, cacheControl: string): Response =>
  new Response(method == 'HEAD' ? null : new Uint8Array(script.body), {
    headers: {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': cacheControl,
      ETag: `"${versionOf(script)}"`,
      'X-Integrity': script.integrity,
      'Access-Control-Allow-Origin': '*',
    },
  });

/**
 * The script itself: a versioned URL never changes content, so it may be cached for a year; the
 * bare path revalidates daily.
 */
export const serveScript = (script: ScriptInfo, request: Request, url: URL): Response =>
  scriptResponse(
    script,
    request.method,
    url.searchParams.get('v') == versionOf(script)
      ? 'public, max-age=31536000, immutable'
      : 'public, max-age=86400',
  );

/**
 * A file beside the script, fetched by its bare name (the first file knows no version): revalidated
 * daily by its ETag.
 */
export const serveBeside = (file: ScriptInfo, request: Request): Response =>
  scriptResponse(file, request.method, 'public, max-age=86400');

/** The script's src and integrity as JSON, for pages that build the tag themselves. */
export const serveScriptInfo = (script: ScriptInfo): Response =>
  json(200, { src: script.src, integrity: script.integrity });
