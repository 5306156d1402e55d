export * from './types.ts';
export * from './errors.ts';
export { assertPinnedBaseUrl, createMoltbookClient, flattenComments, MOLTBOOK_BASE_URL } from './client.ts';
export type { MoltbookClient, MoltbookClientOptions } from './client.ts';
export * as moltbookSchemas from './schemas.ts';
export * from './engagement/index.ts';
export * from './workload.ts';
