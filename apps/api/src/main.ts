// Process entry: `npm start`. Wires real dependencies and handles signals.
import { ConfigError, createLogger, loadConfig } from '@opsloop/core';
import { startService } from './service.ts';

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

const logger = createLogger({ level: config.LOG_LEVEL });
const service = await startService(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, 'start-up failed');
  // Also as one plain line (e.g. "schedule.yaml:14: job "x": invalid cron …").
  process.stderr.write(`opsloop: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'signal received');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
