/** What the relay adds to each event: receive time, skew-corrected time, client IP, user agent, bot flag. */
import { isIP } from 'node:net';
import type { Batch } from '../types';
import type { StoredEvent } from './store';

const BOT = /bot\b|bot\/|crawl|spider|slurp|headless|phantomjs|puppeteer|playwright|selenium|lighthouse|pingdom|uptime|monitor|curl\/|wget|python-|node-fetch|undici|axios|go-http-client|java\/|okhttp|facebookexternalhit|preview|scan/i;

/** True when a user agent looks like a crawler, a monitor or automation (or there is none). */
export const isBot = (userAgent: string | undefined): boolean => !userAgent || BOT.test(userAgent);

/** `::ffff:1.2.3.4` → `1.2.3.4`. */
const plain = (ip: string): string => ip.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

const ipv4 = (ip: string): number | undefined => {
  const parts = ip.split('.').map(Number);
  return parts.length == 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) ? parts.reduce((n, p) => n * 256 + p, 0) : undefined;
};

/** True when `ip` matches one of the trusted entries: exact IPs, IPv4 CIDRs (`10.0.0.0/8`) or `loopback`. */
export const isTrusted = (ip: string, trusted: string[]): boolean => {
  ip = plain(ip);
  return trusted.some((entry) => {
    if (entry == 'loopback') return ip == '::1' || ip.startsWith('127.');
    const [range, bits] = entry.split('/');
    if (bits == undefined) return plain(range) == ip;
    const a = ipv4(ip);
    const b = ipv4(range);
    if (a == undefined || b == undefined) return false;
    const size = 2 ** (32 - Number(bits));
    return Math.floor(a / size) == Math.floor(b / size);
  });
};

/**
 * The client's IP: the socket peer, unless that peer is a trusted proxy — then the right-most
 * address in X-Forwarded-For that is not itself a trusted proxy (left of it can be forged), or X-Real-IP.
 */
export const clientIp = (headers: Headers, remote: string | undefined, trusted: string[]): string | undefined => {
  let ip = remote ? plain(remote) : undefined;
  if (!ip || !isTrusted(ip, trusted)) return ip;
  const forwarded = (headers.get('x-forwarded-for') ?? '').split(',').map(plain).filter((x) => isIP(x));
  while (forwarded.length) {
    ip = forwarded.pop()!;
    if (!isTrusted(ip, trusted)) return ip;
  }
  const real = plain(headers.get('x-real-ip') ?? '');
  return isIP(real) ? real : ip;
};

/** Turns a validated batch into stored events. */
export const enrich = (batch: Batch, context: { receivedAt: number; ip?: string; userAgent?: string; origin?: string }): StoredEvent[] => {
  // The visitor's clock may be off: it was `skew` behind ours when it sent the body (network time included).
  const skewMs = Math.round(context.receivedAt - batch.sentAt);
  const bot = isBot(context.userAgent);
  return batch.events.map((event) => ({
    site: batch.site,
    event,
    receivedAt: context.receivedAt,
    time: Math.min(context.receivedAt, Math.round(event.timestamp + skewMs)),
    skewMs,
    ...(context.ip ? { ip: context.ip } : {}),
    ...(context.userAgent ? { userAgent: context.userAgent } : {}),
    bot,
    ...(context.origin ? { origin: context.origin } : {}),
  }));
};
