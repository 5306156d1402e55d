// Process entry: `npm start` (node apps/api/dist/main.js). Wires real dependencies and
// owns how the process ends (shutdown.ts).
import { ConfigError, createLogger, loadConfig } from '@opsloop/core';
import { EmbeddedPostgresError } from '@opsloop/db';
import { startService } from './service.ts';
import { installShutdown } from './shutdown.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const shutdown = installShutdown({ logger, graceMs: config.SHUTDOWN_GRACE_MS });
try {
  const service = await startService(config, logger);
  shutdown.setStop(service.stop);
} catch (error) {
  // One plain line an operator can act on (e.g. `schedule.yaml:14: job "x": invalid cron`,
  // or what keeps the embedded database from starting); the stack only for the unexpected.
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof EmbeddedPostgresError) logger.fatal(message);
  else logger.fatal({ err: error }, 'start-up failed');
  process.stderr.write(`opsloop: start-up failed: ${message}\n`);
  process.exit(1);
}
