export * from './types.ts';
export * from './destinations.ts';
export * from './takeBackup.ts';
export * from './restoreBackup.ts';
export * from './readiness.ts';
export * from './runBackup.ts';
export * from './fromConfig.ts';
export { tableDigests } from './tables.ts';
