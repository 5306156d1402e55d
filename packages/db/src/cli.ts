// `npm run db:migrate | db:rollback [version] | db:seed`: the operator's entry points.
// Uses DATABASE_URL, or the embedded cluster under .data/ when it is unset.
import { createLogger, loadConfig } from '@opsloop/core';
import { migrate, rollback } from './migrations.ts';
import { seed } from './seeds.ts';
import { startEmbeddedPostgres } from './embedded.ts';

const [command, arg] = process.argv.slice(2);
const config = loadConfig();
const logger = createLogger({ level: config.LOG_LEVEL, name: 'opsloop-db' });
const embedded = config.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dataDir: `${config.DATA_DIR}/postgres`, port: config.EMBEDDED_PG_PORT, logger });
const url = config.DATABASE_URL ?? embedded!.url;
try {
  const target = arg === undefined ? undefined : Number.parseInt(arg, 10);
  if (arg !== undefined && !Number.isInteger(target)) throw new Error(`version must be a number, got "${arg}"`);
  switch (command) {
    case 'migrate':
      logger.info(await migrate(url, { target, logger }), 'migrated');
      break;
    case 'rollback':
      logger.info(await rollback(url, { target, logger }), 'rolled back');
      break;
    case 'seed':
      logger.info({ files: await seed(url, logger) }, 'seeded');
      break;
    default:
      throw new Error('usage: cli.ts migrate [version] | rollback [version] | seed');
  }
} catch (error) {
  logger.error({ err: error }, 'database command failed');
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
