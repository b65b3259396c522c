/** Trusted proxies: entries checked at start (naming the bad one), IPv6 ranges, X-Forwarded-For hops with ports. */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { clientIp, compileTrust, hopAddress } from '../../src/relay/enrich';
import {
  batch,
  CLI,
  ensureBuilt,
  pageview,
  post,
  startCli,
  tempDir,
  writeConfig,
  type RelayProcess,
} from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const withProxies = (trustedProxies: string[]) => ({
  trustedProxies,
  sites: { shop: { origins: ['*'] } },
});

describe('trustedProxies entries', () => {
  it.each([
    ['an empty prefix length', '10.0.0.0/'],
    ['a negative prefix length', '10.0.0.0/-1'],
    ['a prefix length of 0 (every address)', '0.0.0.0/0'],
    ['a prefix longer than the address', '10.0.0.0/33'],
    ['an IPv6 prefix longer than the address', 'fd00::/129'],
    ['a name that is not a range', 'my-proxy.internal'],
    ['an address with a port', '10.0.0.1:8080'],
  ])('refuses %s, naming the entry', (_name, entry) => {
    expect(() => resolveConfig(withProxies(['127.0.0.1', entry]))).toThrow(
      `trustedProxies.1: "${entry}" is not an IP address, a CIDR range or loopback/linklocal/uniquelocal`,
    );
  });

  it.each([
    ['10.0.0.0/8'],
    ['10.0.0.0/255.0.0.0'],
    ['fd00::/8'],
    ['2001:db8::1'],
    ['loopback'],
    ['uniquelocal'],
  ])('accepts %s', (entry) => {
    expect(resolveConfig(withProxies([entry])).trustedProxies).toEqual([entry]);
  });

  it('refuses a bad entry when the CLI starts', async () => {
    await ensureBuilt();
    const path = writeConfig(tempDir(), withProxies(['10.0.0.0/-1']));
    let error: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [CLI, '--config', path, '--port', '0'], {
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 10_000,
      });
    } catch (e) {
      error = e as { status: number; stderr: string };
    }
    expect(error?.status).toBe(1);
    expect(error?.stderr).toContain(
      `bad config in ${path}: trustedProxies.0: "10.0.0.0/-1" is not an IP address`,
    );
  }, 180_000);
});

describe('clientIp', () => {
  it.each([
    [
      'IPv6 ranges',
      '2001:db8:1::5',
      { 'x-forwarded-for': '203.0.113.9' },
      ['2001:db8::/32'],
      '203.0.113.9',
    ],
    [
      'an IPv6 client behind an IPv6 proxy',
      'fd00::2',
      { 'x-forwarded-for': '2001:db8::77, fd00::3' },
      ['fd00::/8'],
      '2001:db8::77',
    ],
    [
      'an IPv4-mapped peer in an IPv4 range',
      '::ffff:10.1.2.3',
      { 'x-forwarded-for': '203.0.113.9' },
      ['10.0.0.0/8'],
      '203.0.113.9',
    ],
    [
      'a peer outside the ranges',
      '2001:db9::1',
      { 'x-forwarded-for': '203.0.113.9' },
      ['2001:db8::/32'],
      '2001:db9::1',
    ],
    [
      'a hop with a port, ending the walk before the forged hop',
      '127.0.0.1',
      { 'x-forwarded-for': '6.6.6.6, 203.0.113.7:51234' },
      ['loopback'],
      '203.0.113.7',
    ],
    [
      'a bracketed IPv6 hop with a port',
      '127.0.0.1',
      { 'x-forwarded-for': '6.6.6.6, [2001:db8::7]:443' },
      ['loopback'],
      '2001:db8::7',
    ],
    [
      'the last proxy when a hop is not an address',
      '127.0.0.1',
      { 'x-forwarded-for': '6.6.6.6, unknown' },
      ['loopback'],
      '127.0.0.1',
    ],
    [
      'nothing from X-Forwarded-For when the peer is not trusted',
      '198.51.100.1',
      { 'x-forwarded-for': '6.6.6.6' },
      ['10.0.0.0/8'],
      '198.51.100.1',
    ],
  ])('takes %s', (_name, remote, headers, trusted, ip) => {
    expect(clientIp(new Headers(headers), remote, trusted)).toBe(ip);
  });

  it.each([
    ['203.0.113.7:51234', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['[2001:db8::7]:443', '2001:db8::7'],
    ['[2001:db8::7]', '2001:db8::7'],
    ['2001:db8::7', '2001:db8::7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['unknown', undefined],
    ['203.0.113.7:port', undefined],
    ['', undefined],
  ])('reads the hop %j as %s', (hop, ip) => {
    expect(hopAddress(hop)).toBe(ip);
  });

  it('compiles once per config and trusts nothing with no entries', () => {
    const trust = compileTrust([]);
    expect(trust('127.0.0.1')).toBe(false);
    expect(compileTrust(['loopback'])('::1')).toBe(true);
  });
});

describe('the relay CLI behind a proxy on loopback', () => {
  let relay: RelayProcess;
  beforeAll(ensureBuilt, 180_000);
  beforeAll(async () => {
    relay = await startCli(
      writeConfig(tempDir(), {
        storeIp: 'full',
        trustedProxies: ['loopback'],
        sites: { shop: { origins: ['https://shop.example'] } },
      }),
      ':memory:',
    );
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('stores the first untrusted hop, port stripped, not the forged left one', async () => {
    const event = pageview();
    expect(
      (await post(relay.url, batch([event]), { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7:51234' }))
        .status,
    ).toBe(200);
    const controller = new AbortController();
    const response = await fetch(relay.url + '/events/stream?replay=10', {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = '';
    for (let i = 0; i < 5 && !text.includes(event.id); i++)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const line = text.split('\n').find((l) => l.includes(event.id))!;
    expect(JSON.parse(line.slice(6))).toMatchObject({ event: { id: event.id }, ip: '203.0.113.7' });
  });
});
