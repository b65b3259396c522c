// A throwaway PostgreSQL 15 for the relay benches: initdb in a temporary folder (run as the postgres
// user when the bench runs as root), listening on 127.0.0.1 only, with durable settings (fsync on)
// as in production, removed by destroy().
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';

/** A TCP port free on 127.0.0.1 at the time of asking. */
export const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

/**
 * Starts a server with `settings` added to its command line (`-c name=value …`); `undefined` when
 * the PostgreSQL binaries are missing. Its `url` names the `postgres` database, `data` its data
 * folder and `pid` its postmaster.
 */
export const startPostgres = async (settings = '') => {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl'))) return undefined;
  const root = userInfo().uid == 0;
  const dir = mkdtempSync(join(tmpdir(), 'tracklet-bench-pg-'));
  if (root)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres'])),
      Number(execFileSync('id', ['-g', 'postgres'])),
    );
  const run = (command, args) =>
    root
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args], {
          stdio: 'pipe',
        })
      : execFileSync(join(PG_BIN, command), args, { stdio: 'pipe' });
  const data = join(dir, 'data');
  const destroy = () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    } catch {
      // Not running.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const port = await freePort();
    run('pg_ctl', [
      '-D',
      data,
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${settings}`.trim(),
      '-l',
      join(dir, 'log'),
      '-w',
      'start',
    ]);
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, data, pid, destroy };
  } catch (error) {
    destroy();
    throw error;
  }
};

/** CPU seconds of the server at `data`: its postmaster and every process it started (Linux /proc). */
export const serverCpuSeconds = (data) => {
  try {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let total = 0;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        // ppid is field 4 of stat(5); utime and stime 14 and 15, in ticks of 1/100 s.
        if (Number(pid) == postmaster || Number(fields[1]) == postmaster)
          total += (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        // Gone meanwhile.
      }
    }
    return total;
  } catch {
    return 0;
  }
};
