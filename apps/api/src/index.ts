export { createApp, type AppDeps } from './app.ts';
export { startService, type RunningService } from './service.ts';
