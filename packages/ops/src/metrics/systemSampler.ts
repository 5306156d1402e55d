import { hostname } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type { HttpWindow } from './httpWindow.ts';

export interface SystemSamplerOptions {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  /** Identifies this process in ops_system_metrics. (Default: hostname:pid) */
  workerId?: string;
  /** (Default: 60000) */
  intervalMs?: number;
  /** Steps this process is running now (the in-process worker's count). */
  activeSteps: () => number;
  /** HTTP requests since the previous sample (from OpsMetrics). */
  httpWindow?: HttpWindow;
}

export interface SystemSampler {
  readonly workerId: string;
  start(): void;
  /** Takes and stores one sample now. */
  sample(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Every `intervalMs`, one row in ops_system_metrics for this process: CPU % (of one
 * core, since the previous sample), RSS and heap, event-loop delay p99, active steps, and
 * the HTTP requests of the interval. A failed insert is logged and the next one tries
 * again; the sampler never stops the process.
 */
export function createSystemSampler(o: SystemSamplerOptions): SystemSampler {
  const workerId = o.workerId ?? `${hostname()}:${process.pid}`;
  const loop = monitorEventLoopDelay({ resolution: 20 });
  let cpu = process.cpuUsage();
  let at = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  async function sample() {
    const now = process.hrtime.bigint();
    const used = process.cpuUsage(cpu);
    const elapsedUs = Number(now - at) / 1000;
    cpu = process.cpuUsage();
    at = now;
    const cpuPercent = elapsedUs > 0 ? ((used.user + used.system) / elapsedUs) * 100 : 0;
    const lagMs = loop.count > 0 ? loop.percentile(99) / 1e6 : 0;
    loop.reset();
    const mem = process.memoryUsage();
    const http = o.httpWindow?.take() ?? { requests: 0, errors: 0, buckets: [] };
    await o.prisma.opsSystemMetric.create({
      data: {
        workerId,
        host: hostname(),
        pid: process.pid,
        cpuPercent: Math.round(cpuPercent * 100) / 100,
        rssBytes: BigInt(mem.rss),
        heapUsedBytes: BigInt(mem.heapUsed),
        heapTotalBytes: BigInt(mem.heapTotal),
        eventLoopLagP99Ms: Math.round(lagMs * 100) / 100,
        activeSteps: o.activeSteps(),
        httpRequests: http.requests,
        httpErrors: http.errors,
        httpDurationBuckets: http.buckets,
        createdAt: o.clock.now(),
      },
    });
  }

  return {
    workerId,
    start() {
      loop.enable();
      timer = setInterval(() => {
        inFlight ??= sample()
          .catch((error: unknown) => o.logger.warn({ err: error }, 'system metrics sample failed'))
          .finally(() => (inFlight = undefined));
      }, o.intervalMs ?? 60_000);
      timer.unref();
    },
    sample,
    async stop() {
      if (timer) clearInterval(timer);
      loop.disable();
      await inFlight;
    },
  };
}
