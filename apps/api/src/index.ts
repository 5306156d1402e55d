export { createApp, type AppDeps } from './app.ts';
export { startService, type RunningService } from './service.ts';
export type { BackupApi } from './routes/observability.ts';
