import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The only module that reads the environment. Every variable is documented in the
 * README's configuration table; keep the two in step.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not a known IANA time zone');

/**
 * Express's `trust proxy`: `false` (default: the socket's address is the client),
 * `true` (trust every hop: only behind a proxy that overwrites X-Forwarded-For), a hop
 * count, or a comma-separated list of proxy addresses/subnets and the names `loopback`,
 * `linklocal`, `uniquelocal`.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((v, ctx): boolean | number | string => {
    const value = v.trim();
    if (value === '' || value === 'false' || value === '0') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    const names = new Set(['loopback', 'linklocal', 'uniquelocal']);
    for (const part of value.split(',').map((p) => p.trim())) {
      const [address, prefix, ...rest] = part.split('/');
      const ok = names.has(part) || (rest.length === 0 && isIP(address ?? '') !== 0 && (prefix === undefined || /^\d{1,3}$/.test(prefix)));
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: 'must be true, false, a hop count, or a list of addresses/subnets (loopback, 10.0.0.0/8, …)' });
        return z.NEVER;
      }
    }
    return value;
  });

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),

    DATABASE_URL: optionalSecret.pipe(
      z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL').optional(),
    ),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    DATA_DIR: z.string().default('.data'),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    EMBEDDED_PG_ROOT_DIR: z.string().default('/var/lib/opsloop'),
    MIGRATE_ON_START: bool.default(true),

    OPS_API_TOKEN: optionalSecret,
    HEARTBEAT_TOKEN: optionalSecret,
    OPS_VIEWER_TOKEN: optionalSecret,
    OPS_TIMEZONE: timeZone.default('Asia/Tokyo'),
    TRUST_PROXY: trustProxy,
    /** Failed authentications per client address per minute before 429. */
    AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(20),
    BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'like 1mb or 512kb').default('1mb'),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),

    WORKERS_ENABLED: bool.default(true),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
    WORKER_POLL_MS: z.coerce.number().int().min(50).default(2_000),
    SCHEDULER_ENABLED: bool.default(true),
    SCHEDULE_FILE: z.string().default('schedule.yaml'),
    /** Unset: `ops_monitor.heartbeat_missing_minutes` decides; set, it overrides the policy. */
    HEARTBEAT_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).optional(),

    OPENAI_API_KEY: optionalSecret,
    OPENAI_BASE_URL: optionalSecret.pipe(z.url().optional()),
    OPENAI_MODEL: z.string().default('gpt-4o-mini'),
    SLACK_WEBHOOK_URL: optionalSecret.pipe(z.url().optional()),
    // Control API (issue 11): Slack approvals and the live event stream.
    SLACK_SIGNING_SECRET: optionalSecret,
    EVENT_STREAM_MAX: z.coerce.number().int().min(1).max(10_000).default(100),

    MOLTBOOK_API_KEY: optionalSecret,
    MOLTBOOK_BASE_URL: z.url().default('https://www.moltbook.com/api/v1'),
    MOLTBOOK_WATCH_POST_IDS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
    MOLTBOOK_REPLY_MAX_PER_RUN: z.coerce.number().int().min(0).max(50).default(1),
    MOLTBOOK_OUTPUT_DIR: z.string().default('.data/moltbook'),

    METRICS_TOKEN: optionalSecret,
    SYSTEM_METRICS_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
    BACKUP_DIR: z.string().default('.data/backups'),
    BACKUP_KEEP: z.coerce.number().int().min(1).max(1000).default(7),
    BACKUP_S3_BUCKET: optionalSecret,
    BACKUP_S3_ENDPOINT: optionalSecret.pipe(z.url().optional()),
    BACKUP_S3_REGION: z.string().default('auto'),
    BACKUP_S3_ACCESS_KEY_ID: optionalSecret,
    BACKUP_S3_SECRET_ACCESS_KEY: optionalSecret,
    BACKUP_S3_PREFIX: z.string().default('opsloop-backups'),
    BACKUP_S3_FORCE_PATH_STYLE: bool.default(true),
  })
  .superRefine((c, ctx) => {
    // A viewer token that equals the API token would make viewers operators.
    if (c.OPS_VIEWER_TOKEN !== undefined && c.OPS_VIEWER_TOKEN.length < 24) ctx.addIssue({ code: 'custom', path: ['OPS_VIEWER_TOKEN'], message: 'must be at least 24 characters' });
    else if (c.OPS_VIEWER_TOKEN !== undefined && c.OPS_VIEWER_TOKEN === c.OPS_API_TOKEN) ctx.addIssue({ code: 'custom', path: ['OPS_VIEWER_TOKEN'], message: 'must differ from OPS_API_TOKEN' });
    if (c.BACKUP_S3_BUCKET && (!c.BACKUP_S3_ACCESS_KEY_ID || !c.BACKUP_S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({ code: 'custom', path: ['BACKUP_S3_BUCKET'], message: 'needs BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY' });
    }
    if (c.NODE_ENV !== 'production') return;
    for (const key of ['OPS_API_TOKEN', 'HEARTBEAT_TOKEN'] as const) {
      if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when NODE_ENV=production' });
      else if (c[key].length < 24) ctx.addIssue({ code: 'custom', path: [key], message: 'must be at least 24 characters' });
    }
  });

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment. Throws a ConfigError whose message is one line per bad
 * variable, naming it, and never echoing its value (it may be a secret).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `invalid configuration: ${i.path.join('.')} ${i.message}`);
  throw new ConfigError(lines.join('\n'));
}
