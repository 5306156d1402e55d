// `npm run backup` / `npm run restore -- <backup> [--force]` / `npm run backups`: the
// operator's entry points until the `opsloop` CLI carries them. Uses DATABASE_URL, or
// the embedded cluster under .data/ when it is unset (stop the service first then: one
// process owns the embedded cluster).
import { createLogger, loadConfig, systemClock } from '@opsloop/core';
import { createDatabase, startEmbeddedPostgres } from '@opsloop/db';
import { destinationFromConfig } from './fromConfig.ts';
import { databaseReadiness } from './readiness.ts';
import { restoreBackup } from './restoreBackup.ts';
import { runBackup } from './runBackup.ts';

const args = process.argv.slice(2);
const [command, ...rest] = args;
const config = loadConfig();
const logger = createLogger({ level: config.LOG_LEVEL, name: 'opsloop-backup' });
const destination = destinationFromConfig(config);
const embedded = config.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dataDir: `${config.DATA_DIR}/postgres`, port: config.EMBEDDED_PG_PORT, logger, rootFallbackDir: config.EMBEDDED_PG_ROOT_DIR });
const url = config.DATABASE_URL ?? embedded!.url;
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
try {
  switch (command) {
    case 'backup': {
      const db = createDatabase({ url, poolSize: 2 });
      try {
        const result = await runBackup(
          { pool: db.pool, clock: systemClock, logger, destination, readiness: databaseReadiness(db.pool), keep: config.BACKUP_KEEP },
          { triggeredBy: 'cli', waitMs: 30_000, onNotReady: 'throw' },
        );
        if (result.status === 'succeeded') {
          const { manifest, ...summary } = result;
          print({ ...summary, totalRows: manifest.totalRows, durationMs: manifest.durationMs, schemaVersion: manifest.schemaVersion });
        } else print(result);
      } finally {
        await db.close();
      }
      break;
    }
    case 'restore': {
      const name = rest.find((a) => !a.startsWith('--'));
      const unknown = rest.filter((a) => a.startsWith('--') && a !== '--force');
      if (!name || unknown.length) throw new Error('usage: restore <backup> [--force]');
      print(await restoreBackup({ url, logger }, { destination, name, force: rest.includes('--force') }));
      break;
    }
    case 'list':
      print({ destination: destination.kind, backups: (await destination.list()).map((name) => ({ name, location: destination.location(name) })) });
      break;
    default:
      throw new Error('usage: cli.js backup | restore <backup> [--force] | list');
  }
} catch (error) {
  process.stderr.write(`opsloop: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
