import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config, Logger } from '@opsloop/core';
import type { AuthTokens } from './http/auth.ts';

/**
 * Production must be given both tokens (config validation refuses to start otherwise).
 * In development an unset token is generated once, kept in DATA_DIR/tokens.json (mode
 * 600) so it survives restarts, and printed at start-up so a developer can curl.
 */
export async function resolveTokens(config: Config, logger: Logger): Promise<AuthTokens> {
  if (config.OPS_API_TOKEN && config.HEARTBEAT_TOKEN) {
    return { apiToken: config.OPS_API_TOKEN, heartbeatToken: config.HEARTBEAT_TOKEN };
  }
  const file = path.join(config.DATA_DIR, 'tokens.json');
  const stored = await fs
    .readFile(file, 'utf8')
    .then((t) => JSON.parse(t) as Partial<AuthTokens>)
    .catch(() => ({}) as Partial<AuthTokens>);
  const tokens: AuthTokens = {
    apiToken: config.OPS_API_TOKEN ?? stored.apiToken ?? randomBytes(24).toString('base64url'),
    heartbeatToken: config.HEARTBEAT_TOKEN ?? stored.heartbeatToken ?? randomBytes(24).toString('base64url'),
  };
  if (tokens.apiToken !== stored.apiToken || tokens.heartbeatToken !== stored.heartbeatToken) {
    await fs.mkdir(config.DATA_DIR, { recursive: true });
    await fs.writeFile(file, JSON.stringify(tokens, null, 2), { mode: 0o600 });
  }
  // Deliberately printed (development only): this is how a developer learns them.
  process.stdout.write(
    `opsloop development tokens (stored in ${file}):\n` +
      (config.OPS_API_TOKEN ? '' : `  OPS_API_TOKEN=${tokens.apiToken}\n`) +
      (config.HEARTBEAT_TOKEN ? '' : `  HEARTBEAT_TOKEN=${tokens.heartbeatToken}\n`),
  );
  logger.info({ file }, 'using generated development tokens');
  return tokens;
}
