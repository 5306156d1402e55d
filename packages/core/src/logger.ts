import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]". Bearer tokens, API keys and webhook URLs must
 * never reach a log line, wherever they sit in the logged object.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-auth-token"]',
  'req.headers["proxy-authorization"]',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["x-auth-token"]',
  'headers.authorization',
  'authorization',
  'token',
  'apiKey',
  'api_key',
  'leaseToken',
  'password',
  'secret',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.webhookUrl',
  'config.OPS_API_TOKEN',
  'config.HEARTBEAT_TOKEN',
  'config.OPENAI_API_KEY',
  'config.MOLTBOOK_API_KEY',
  'config.SLACK_WEBHOOK_URL',
  'config.DATABASE_URL',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go; tests pass a stream they can read back. (Default: stdout) */
  destination?: DestinationStream;
  /**
   * `pretty`: coloured single lines for a terminal (pino-pretty, a dev dependency; JSON
   * when it is not installed). (Default: json)
   */
  format?: 'json' | 'pretty';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = options.format === 'pretty' && !options.destination ? prettyStream() : undefined;
  return pino(
    {
      name: options.name ?? 'opsloop',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pretty,
  );
}

function prettyStream(): DestinationStream | undefined {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
  } catch {
    process.stderr.write('LOG_FORMAT=pretty needs the pino-pretty dev dependency; logging JSON\n');
    return undefined;
  }
  return pino.transport({ target: 'pino-pretty', options: { colorize: process.stdout.isTTY, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } });
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
