import type { Command } from 'commander';
import { createLogger, loadConfig, ConfigError, type Config } from '@opsloop/core';
import { migrate, rollback, seed, startEmbeddedPostgres } from '@opsloop/db';
import { emit, type CliContext } from '../context.ts';
import { CliError, EXIT } from '../exitCodes.ts';

/**
 * Direct database commands (not over HTTP): DATABASE_URL, or the embedded cluster under
 * DATA_DIR when it is unset, exactly as the service would use.
 */
export function registerDbCommands(program: Command, ctx: CliContext): void {
  const db = program.command('db').description('database: migrate, roll back, seed (DATABASE_URL or the embedded cluster)');

  db.command('migrate [version]')
    .description('apply pending migrations (up to version)')
    .action(async (version: string | undefined, _opts: unknown, cmd: Command) => {
      const result = await withDatabase(ctx, (url, logger) => migrate(url, { target: toVersion(version), logger }));
      emit(ctx, cmd, result, () => `schema version ${result.from} -> ${result.to}; applied: ${result.applied.length ? result.applied.join(', ') : 'nothing (up to date)'}\n`);
    });

  db.command('rollback [version]')
    .description('roll back one migration, or down to version (0: all)')
    .action(async (version: string | undefined, _opts: unknown, cmd: Command) => {
      const result = await withDatabase(ctx, (url, logger) => rollback(url, { target: toVersion(version), logger }));
      emit(ctx, cmd, result, () => `schema version ${result.from} -> ${result.to}\n`);
    });

  db.command('seed')
    .description('insert missing seed rows (never overwrites operators’ changes)')
    .action(async (_opts: unknown, cmd: Command) => {
      const files = await withDatabase(ctx, (url, logger) => seed(url, logger));
      emit(ctx, cmd, { files }, () => `seeded: ${files.join(', ')}\n`);
    });
}

function toVersion(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined;
  if (!/^\d+$/.test(arg)) throw new CliError(`version must be a whole number, got "${arg}"`, EXIT.usage);
  return Number(arg);
}

/** Runs `fn` on DATABASE_URL, or on the embedded cluster under DATA_DIR (started, then stopped). */
export async function withDatabase<T>(ctx: CliContext, fn: (url: string, logger: ReturnType<typeof createLogger>, config: Config) => Promise<T>): Promise<T> {
  let config;
  try {
    config = loadConfig(ctx.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  // Progress goes to stderr, so stdout stays the command's answer (--json stays parseable).
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, name: 'opsloop-db', destination: process.stderr });
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: `${config.DATA_DIR}/postgres`, port: config.EMBEDDED_PG_PORT, logger, rootFallbackDir: config.EMBEDDED_PG_ROOT_DIR });
  try {
    return await fn(config.DATABASE_URL ?? embedded!.url, logger, config);
  } finally {
    await embedded?.stop();
  }
}
