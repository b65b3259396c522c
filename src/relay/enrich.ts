/** What the relay adds to each event: receive time, skew-corrected time, client IP, user agent, bot flag. */
import { isIP } from 'node:net';
import { isbot } from 'isbot';
import proxyaddr from 'proxy-addr';
import type { Batch } from '../types';
import type { StoredEvent } from './store';

/** User agents remembered with their verdict: a relay sees few distinct ones, and the list is long to test. */
const BOT_MEMO_SIZE = 2_000;
/** Longer user agents (real browsers send 100–300 characters) are tested each time, so the memo stays under ~2 MB. */
const BOT_MEMO_LENGTH = 512;
const botMemo = new Map<string, boolean>();

/**
 * True when a user agent is a crawler, a monitor or automation (or there is none), by the `isbot`
 * list. Each verdict is remembered per user-agent string (at most BOT_MEMO_SIZE of them, the oldest forgotten
 * first): testing the list costs tens of microseconds, a look-up well under one.
 */
export const isBot = (userAgent: string | undefined): boolean => {
  if (!userAgent) return true;
  if (userAgent.length > BOT_MEMO_LENGTH) return isbot(userAgent);
  let bot = botMemo.get(userAgent);
  if (bot === undefined) {
    bot = isbot(userAgent);
    if (botMemo.size >= BOT_MEMO_SIZE) botMemo.delete(botMemo.keys().next().value!);
    botMemo.set(userAgent, bot);
  }
  return bot;
};

/** @internal How many verdicts are remembered (for tests of the bound). */
export const botMemoSize = (): number => botMemo.size;

/** `::ffff:1.2.3.4` → `1.2.3.4`. */
const plain = (ip: string): string => ip.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/** A trusted-proxy test: (address) → trusted. */
export type Trust = (ip: string) => boolean;

/**
 * Compiles `trustedProxies` entries — IPs, CIDR ranges of IPv4 or IPv6 (`10.0.0.0/8`, `fd00::/8`),
 * netmasks (`10.0.0.0/255.0.0.0`) or the names `loopback`, `linklocal`, `uniquelocal` — into a test.
 * Throws naming the first entry that is none of these (`10.0.0.0/` or `/-1` would otherwise trust every address).
 */
export const compileTrust = (entries: string[]): Trust => {
  entries.forEach((entry, i) => {
    try {
      proxyaddr.compile(entry);
    } catch (error) {
      throw new TypeError(
        `trustedProxies.${i}: "${entry}" is not an IP address, a CIDR range ` +
          `or loopback/linklocal/uniquelocal (${(error as Error).message})`,
      );
    }
  });
  const trust = proxyaddr.compile(entries);
  return (ip) => isIP(ip) != 0 && trust(ip, 0);
};

const compiled = new WeakMap<string[], Trust>();
const trustOf = (trusted: string[] | Trust): Trust => {
  if (typeof trusted == 'function') return trusted;
  let trust = compiled.get(trusted);
  if (!trust) compiled.set(trusted, (trust = compileTrust(trusted)));
  return trust;
};

/** True when `ip` matches one of the trusted entries (see `compileTrust`). */
export const isTrusted = (ip: string, trusted: string[]): boolean => trustOf(trusted)(plain(ip));

/**
 * One `X-Forwarded-For` hop as an address: ports stripped (`203.0.113.7:51234`, `[2001:db8::1]:443`);
 * undefined when it is not an address at all.
 */
export const hopAddress = (hop: string): string | undefined => {
  let ip = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracketed) ip = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(ip)) ip = ip.slice(0, ip.indexOf(':'));
  ip = plain(ip);
  return isIP(ip) ? ip : undefined;
};

/**
 * The client's IP: the socket peer, unless that peer is a trusted proxy — then the right-most
 * address in X-Forwarded-For that is not itself a trusted proxy (left of it can be forged), or X-Real-IP.
 * A hop that is not an address ends the walk at the last proxy: nothing left of it can be believed.
 */
export const clientIp = (
  headers: Headers,
  remote: string | undefined,
  trusted: string[] | Trust,
): string | undefined => {
  const trust = trustOf(trusted);
  let ip = remote ? plain(remote) : undefined;
  if (!ip || !trust(ip)) return ip;
  const forwarded = (headers.get('x-forwarded-for') ?? '').split(',').filter((hop) => hop.trim());
  while (forwarded.length) {
    const hop = hopAddress(forwarded.pop()!);
    if (!hop) return ip;
    ip = hop;
    if (!trust(ip)) return ip;
  }
  const real = hopAddress(headers.get('x-real-ip') ?? '');
  return real ?? ip;
};

/** An address cut to its network: IPv4 to /24 (`203.0.113.0`), IPv6 to /48 (`2001:db8:1::`). */
export const truncateIp = (ip: string): string => {
  if (isIP(ip) == 4) return ip.split('.').slice(0, 3).join('.') + '.0';
  if (isIP(ip) != 6) return '';
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return (
    groups
      .slice(0, 3)
      .map((g) => g.replace(/^0+(?=.)/, '').toLowerCase())
      .join(':') + '::'
  );
};

/** What `storeIp` keeps of an address. */
export const keptIp = (
  ip: string | undefined,
  mode: 'full' | 'truncated' | 'none',
): string | undefined =>
  !ip || mode == 'none' ? undefined : mode == 'truncated' ? truncateIp(ip) || undefined : ip;

/** Turns a validated batch into stored events. */
export const enrich = (
  batch: Batch,
  context: {
    receivedAt: number;
    ip?: string;
    userAgent?: string;
    origin?: string;
    storeIp?: 'full' | 'truncated' | 'none';
    sendIp?: boolean;
  },
): StoredEvent[] => {
  const stored = keptIp(context.ip, context.storeIp ?? 'full');
  // The full address goes with the queued deliveries only when the stored one is less and a destination uses it.
  const sendIp = context.sendIp && context.ip && stored != context.ip ? context.ip : undefined;
  // The visitor's clock may be off: it was `skew` behind ours when it sent the body (network time included).
  const skewMs = Math.round(context.receivedAt - batch.sentAt);
  const bot = isBot(context.userAgent);
  return batch.events.map((event) => ({
    site: batch.site,
    event,
    receivedAt: context.receivedAt,
    time: Math.min(context.receivedAt, Math.round(event.timestamp + skewMs)),
    skewMs,
    ...(stored ? { ip: stored } : {}),
    ...(sendIp ? { sendIp } : {}),
    ...(context.userAgent ? { userAgent: context.userAgent } : {}),
    bot,
    ...(context.origin ? { origin: context.origin } : {}),
  }));
};
