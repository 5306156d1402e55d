import type { Logger } from '@opsloop/core';

export interface ShutdownOptions {
  logger: Logger;
  /** SHUTDOWN_GRACE_MS: what the drain may take before the watchdog ends the process. */
  graceMs: number;
  /** Extra time after the grace period for releasing leases and closing the database. (Default: 8000) */
  watchdogMarginMs?: number;
  /** A repeat of the first signal within this window is the same Ctrl-C, not a second one. (Default: 1000) */
  duplicateWindowMs?: number;
  exit?: (code: number) => never;
}

export interface Shutdown {
  /** Registers the sequence that drains and closes everything (runs once). */
  setStop(stop: () => Promise<void>): void;
  /** Starts the orderly shutdown (signals and fatal errors call this). */
  begin(reason: string, exitCode: number): void;
}

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Owns how the process ends. SIGTERM and SIGINT start one orderly shutdown (exit 0); an
 * uncaught exception or unhandled rejection is logged and leads to the same shutdown
 * with exit 1. A second signal during the drain exits at once (128 + signal number).
 *
 * `npm start` forwards the terminal's Ctrl-C to us although the terminal already sent
 * it to our process group, so a repeat of the same signal within `duplicateWindowMs`
 * is ignored rather than taken as the impatient second Ctrl-C.
 */
export function installShutdown(o: ShutdownOptions): Shutdown {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const log = o.logger;
  let stop: (() => Promise<void>) | undefined;
  let started: { signal?: string; at: number } | undefined;
  let pending: { reason: string; exitCode: number } | undefined;

  const run = (reason: string, exitCode: number) => {
    // The watchdog covers a drain that hangs (a handler ignoring its abort signal, a
    // database that does not answer): the platform would SIGKILL us anyway.
    const watchdog = setTimeout(() => {
      log.error({ reason }, 'shutdown did not finish in time; exiting');
      exit(exitCode || 1);
    }, o.graceMs + (o.watchdogMarginMs ?? 8000));
    watchdog.unref();
    stop!().then(
      () => {
        log.info({ reason, exitCode }, 'shutdown complete');
        exit(exitCode);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };

  const begin = (reason: string, exitCode: number) => {
    if (started) return;
    started = { at: Date.now() };
    if (stop) run(reason, exitCode);
    else pending = { reason, exitCode }; // still starting: stop as soon as there is something to stop
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (!started) {
        log.info({ signal }, 'signal received: draining (send it again to exit at once)');
        begin(signal, 0);
        started!.signal = signal;
        return;
      }
      if (signal === started.signal && Date.now() - started.at < (o.duplicateWindowMs ?? 1000)) return;
      log.warn({ signal }, 'second signal: exiting without finishing the drain');
      exit(128 + SIGNAL_NUMBERS[signal]);
    });
  }
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception: shutting down');
    begin('uncaughtException', 1);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled rejection: shutting down');
    begin('unhandledRejection', 1);
  });

  return {
    setStop(fn) {
      stop = fn;
      if (pending) run(pending.reason, pending.exitCode);
    },
    begin,
  };
}
