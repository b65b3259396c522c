#!/usr/bin/env node
// The relay part of `npm run bench` on its own: floor, relay on SQLite and relay on PostgreSQL from
// one run, printed as the bench's table; writes nothing. Builds first unless BENCH_NO_BUILD=1.
// BENCH_RELAY_SECONDS=n sets the load per target (default 8), BENCH_RELAY_ROUNDS=n the rounds of
// floor, SQLite, PostgreSQL (default 1; medians shown); BENCH_RELAY_NODE_ARGS passes Node
// flags to the relay process (`--cpu-prof --cpu-prof-dir=DIR` profiles it under the load).
import { execFileSync } from 'node:child_process';
import { ROOT } from './lib/bundle.mjs';
import { measureRelayVsFloor } from './lib/relay.mjs';
import { relayTable } from './lib/report.mjs';

process.chdir(ROOT);
if (!process.env.BENCH_NO_BUILD)
  execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
const relay = await measureRelayVsFloor();
if (relay.unavailable) console.log(`relay not measured: ${relay.unavailable}`);
else {
  console.log('\n' + relayTable(relay));
  for (const note of relay.notes) console.log(`- ${note}`);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(relay));
