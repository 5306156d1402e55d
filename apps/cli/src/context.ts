import type { Command } from 'commander';
import { ApiClient } from './client.ts';
import type { Io } from './output.ts';

/** What every command runs with: where to write, how to reach the API, the process env. */
export interface CliContext {
  io: Io;
  env: Record<string, string | undefined>;
  /** Aborts long-running commands (`events --follow`); main() wires SIGINT to it. */
  signal: AbortSignal;
}

export interface GlobalOptions {
  json?: boolean;
  url?: string;
}

/** Options shared by every command (declared on the program). */
export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function apiClient(ctx: CliContext, command: Command): ApiClient {
  const { url } = globals(command);
  return new ApiClient({ baseUrl: url ?? ctx.env.OPSLOOP_URL ?? 'http://127.0.0.1:3000', token: ctx.env.OPS_API_TOKEN });
}

/** Prints `value` as JSON with --json, otherwise the human text from `human`. */
export function emit(ctx: CliContext, command: Command, value: unknown, human: () => string): void {
  ctx.io.out(globals(command).json ? `${JSON.stringify(value, null, 2)}\n` : human());
}
